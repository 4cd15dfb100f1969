// @ts-check
// sealbucket console: the DOM helpers every page uses (element building, the banner, buttons
// that confirm or show their errors). Served as written: types are JSDoc only.
import { ApiError } from './api.js';

/**
 * The shell's elements (page.ts) by id: always there, HTMLElement unless listed here; #uploads is
 * the objects page's own and may be absent.
 * @typedef {{ 'signin-form': HTMLFormElement, 'signin-button': HTMLButtonElement, ak: HTMLInputElement, sk: HTMLInputElement, region: HTMLInputElement, remember: HTMLInputElement, uploads: HTMLElement | null }} ById
 */
/** @type {<K extends string>(id: K) => K extends keyof ById ? ById[K] : HTMLElement} */
export const $ = (id) => /** @type {any} */ (document.getElementById(id));

/**
 * h()'s attributes: `class`, `text`, on<event> listeners, the properties hidden, disabled,
 * selected, multiple and required (true or false), `value`, and any other attribute (true: present
 * and empty). A null, undefined or false value leaves the name out.
 * @template {keyof HTMLElementTagNameMap} K
 * @typedef {{ [name: string]: any, onclick?: (ev: MouseEvent & { currentTarget: HTMLElementTagNameMap[K] }) => unknown, onsubmit?: (ev: SubmitEvent) => unknown }} Props
 */
/**
 * Children for h() and put(): nodes and text, and arrays of them (flattened: the pages nest them
 * two deep at most); null, undefined and false are skipped.
 * @typedef {Node | string | null | undefined | false} Child
 * @typedef {Child | Child[] | Child[][]} Kid
 */

/**
 * h('tag', { class, text, onclick, ...attributes }, ...children)
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props<K> | null} [props]
 * @param {...Kid} kids
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'selected' || k === 'multiple' || k === 'required')
      /** @type {any} */ (el)[k] = !!v;
    else if (k === 'value') /** @type {HTMLInputElement} */ (el).value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity))
    if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

/**
 * Replaces an element's children (arrays flattened; null, undefined and false skipped).
 * @param {Element} el
 * @param {...Kid} kids
 */
export function put(el, ...kids) {
  el.replaceChildren(.../** @type {(Node | string)[]} */ (kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)));
}

/** @param {number} n */
export const fmtSize = (n) => {
  if (!Number.isFinite(n)) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${u[i]}`;
};
/** @param {string | number | null | undefined} s an ISO or HTTP date, or epoch seconds */
export const fmtDate = (s) => {
  if (s === undefined || s === null || s === '') return '';
  const d = typeof s === 'number' ? new Date(s * 1000) : new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleString();
};
/** @param {any} e what was thrown */
export const message = (e) => (e instanceof ApiError ? e.message : `Something went wrong: ${e?.message ?? e}`);

/** A message for the page about to open (route() shows it rather than clearing the banner). */
let nextFlash = { text: '', kind: 'ok' };
/** @param {string} text @param {string} [kind] */
export function flashNext(text, kind = 'ok') {
  nextFlash = { text, kind };
}
/** Shows the message left for this page, if any (else clears the banner). */
export function flashPending() {
  flash(nextFlash.text, nextFlash.kind);
  nextFlash = { text: '', kind: 'ok' };
}

/** @param {string} text @param {string} [kind] */
export function flash(text, kind = 'error') {
  const b = $('banner');
  b.textContent = text;
  b.className = kind;
  b.hidden = !text;
}

/**
 * A button that asks for a second click before doing something destructive.
 * @param {string} label
 * @param {string} confirmLabel
 * @param {() => Promise<unknown>} action
 * @param {Props<'button'>} [props]
 * @returns {HTMLButtonElement}
 */
export function confirmButton(label, confirmLabel, action, props = {}) {
  let armed = false;
  /** @type {number | undefined} */
  let timer;
  const b = h('button', {
    type: 'button',
    class: 'danger',
    ...props,
    text: label,
    onclick: async () => {
      if (!armed) {
        armed = true;
        b.textContent = confirmLabel;
        b.classList.add('armed');
        timer = setTimeout(() => {
          armed = false;
          b.textContent = label;
          b.classList.remove('armed');
        }, 5000);
        return;
      }
      clearTimeout(timer);
      b.disabled = true;
      try {
        await action();
      } finally {
        b.disabled = false;
        armed = false;
        b.textContent = label;
        b.classList.remove('armed');
      }
    },
  });
  return b;
}

/**
 * Runs an action for a button, showing its error in words.
 * @template T
 * @param {HTMLButtonElement | null} button
 * @param {() => Promise<T>} fn
 * @returns {Promise<T | undefined>}
 */
export async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    flash(message(e));
  } finally {
    if (button) button.disabled = false;
  }
}

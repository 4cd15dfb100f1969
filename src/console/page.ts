// The console's HTML shell and stylesheet. No inline script or style (the CSP forbids both);
// the shell only names its stylesheet and module script by absolute path under CONSOLE_PATH.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function consoleHtml(base: string): string {
  const b = esc(base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>sealbucket console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${b}/console.css">
<script type="module" src="${b}/app.js"></script>
</head>
<body>
<header class="top">
  <a class="brand" href="#/buckets">sealbucket</a>
  <nav id="nav" hidden>
    <a href="#/buckets" data-nav="buckets">Buckets</a>
    <a href="#/keys" data-nav="keys">Keys</a>
    <a href="#/master" data-nav="master" id="nav-master">Master key</a>
    <a href="#/users" data-nav="users" id="nav-users" hidden>Users</a>
  </nav>
  <span class="who" id="who" hidden></span>
  <button type="button" class="link" id="signout" hidden>Sign out</button>
</header>
<div id="banner" role="alert" hidden></div>
<main>
  <section id="signin" hidden>
    <h1>Sign in</h1>
    <p class="hint">The console signs each request in this tab with your access key. Nothing is sent
    anywhere but this gateway, and nothing is kept after the tab closes.</p>
    <form id="signin-form" autocomplete="off">
      <label>Access key ID <input id="ak" name="ak" required spellcheck="false" autocapitalize="off"></label>
      <label>Secret access key <input id="sk" name="sk" type="password" required autocomplete="off"></label>
      <details><summary>Region</summary>
        <label>Signing region <input id="region" name="region" value="us-east-1" spellcheck="false"></label>
      </details>
      <label class="check"><input type="checkbox" id="remember"> Remember for this tab</label>
      <button type="submit" id="signin-button">Sign in</button>
      <p class="error" id="signin-error" role="alert" hidden></p>
    </form>
  </section>
  <section id="view" hidden></section>
  <noscript><p>The console needs JavaScript.</p></noscript>
</main>
</body>
</html>
`;
}

export const consoleCss = `:root {
  --fg: #1d232b; --muted: #5d6b7a; --bg: #f6f7f9; --card: #fff; --line: #dde2e8;
  --accent: #1f5fbf; --accent-fg: #fff; --bad: #b3261e; --bad-bg: #fdecea; --ok: #1e7a3d; --ok-bg: #e7f5ec; --warn: #8a5a00;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .6rem 1rem; background: #14202e; color: #e9eef4; }
.top a { color: #e9eef4; text-decoration: none; }
.brand { font-weight: 700; letter-spacing: .02em; margin-right: .5rem; }
.top nav { display: flex; gap: .25rem; flex-wrap: wrap; }
.top nav a { padding: .25rem .6rem; border-radius: 4px; }
.top nav a.active, .top nav a:hover { background: #2b3d52; }
.who { margin-left: auto; font-size: .85rem; color: #aab7c4; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 14rem; }
button.link { background: none; border: 0; color: #e9eef4; text-decoration: underline; padding: 0; cursor: pointer; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: .5rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
section.card, form.card, .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
#signin { max-width: 26rem; margin: 2rem auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1.25rem; }
label { display: block; margin: .5rem 0; font-size: .9rem; color: var(--muted); }
label input:not([type=checkbox]), label select { display: block; width: 100%; margin-top: .2rem; }
label.check, label.inline { display: inline-flex; align-items: center; gap: .35rem; margin-right: 1rem; }
input, select, button { font: inherit; max-width: 100%; }
main { overflow-wrap: break-word; }
input:not([type=checkbox]):not([type=file]), select { padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--fg); min-width: 0; }
button { padding: .4rem .8rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: var(--accent-fg); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button.danger.armed { background: var(--bad); color: #fff; }
button:disabled { opacity: .55; cursor: default; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; }
.row > label { flex: 1 1 12rem; margin: 0; }
.hint { color: var(--muted); font-size: .9rem; }
.error { color: var(--bad); background: var(--bad-bg); border-radius: 4px; padding: .5rem .7rem; }
.ok { color: var(--ok); background: var(--ok-bg); border-radius: 4px; padding: .5rem .7rem; }
#banner { max-width: 72rem; margin: .75rem auto 0; padding: .6rem 1rem; border-radius: 4px; }
#banner.error { color: var(--bad); background: var(--bad-bg); }
#banner.ok { color: var(--ok); background: var(--ok-bg); }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.name { word-break: break-all; }
td.actions { white-space: nowrap; }
td.actions button { margin: 0 .25rem .25rem 0; padding: .2rem .5rem; font-size: .85rem; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; word-break: break-all; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; background: #e8edf3; white-space: nowrap; }
.badge.cos { background: #e3effd; color: #1f4f8f; }
.badge.kms { background: #efe6fb; color: #5b2d91; }
.badge.c { background: #fff3d6; color: var(--warn); }
.badge.none { background: #fdecea; color: var(--bad); }
.badge.good { background: var(--ok-bg); color: var(--ok); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.crumbs { display: flex; flex-wrap: wrap; gap: .25rem; font-size: .95rem; margin-bottom: .75rem; word-break: break-all; }
.pager { display: flex; gap: .5rem; align-items: center; margin: .75rem 0; }
.drop { border: 2px dashed var(--line); border-radius: 6px; padding: 1rem; text-align: center; color: var(--muted); margin-bottom: .5rem; }
.drop.over { border-color: var(--accent); background: #eef4fd; }
progress { width: 100%; height: .9rem; }
.upload-item { margin: .35rem 0; font-size: .9rem; word-break: break-all; }
dl.meta { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .35rem 1rem; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; word-break: break-all; }
textarea { font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; width: 100%; min-height: 14rem; padding: .5rem; border: 1px solid var(--line); border-radius: 4px; }
.secret { background: #fff8e1; border: 1px solid #e8c56a; border-radius: 6px; padding: .75rem 1rem; margin: .5rem 0 1rem; }
.secret code { font-size: .9rem; word-break: break-all; }
.actions-bar { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
[hidden] { display: none !important; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  th, td { padding: .4rem; }
  .hide-narrow { display: none; }
  .who { max-width: 9rem; }
}
`;

// Runs around every e2e test file (vitest setupFiles): the part of the suite gateway's log that
// the file's tests wrote may hold no error that escaped a handler ("unhandled") and no uncaught
// exception, except lines a test of the file causes on purpose and declares with allowLogLines.

import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { DEV_SERVER_HANG_UP, unexpectedLogLines } from './setup';

const allowed: RegExp[] = [DEV_SERVER_HANG_UP];
let from = 0;
const log = () => (existsSync(inject('logFile')) ? readFileSync(inject('logFile'), 'utf8') : '');

/** Declares log lines this file's tests cause deliberately (and check themselves). */
export const allowLogLines = (...patterns: RegExp[]): void => void allowed.push(...patterns);

beforeAll(() => {
  from = log().length;
});

afterAll(async () => {
  // Give the runtime a moment to report what a last request left behind.
  await new Promise((r) => setTimeout(r, 300));
  expect(unexpectedLogLines(log().slice(from), allowed), 'lines in the gateway log that no test caused on purpose').toEqual([]);
});

// Where the programs the tests drive are: a Chrome/Chromium for playwright-core (which brings
// no browser of its own), and the rclone and s3cmd clients. Used by ensure-deps.mjs (which
// installs what is missing) and by the tests themselves (which then find the same ones).

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The executable `name` on PATH (or `name` itself when it is a path to one), else undefined. */
export function onPath(name) {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** A Chrome or Chromium binary: CHROME_PATH if set, else the usual names on PATH. */
export function findBrowser() {
  if (process.env.CHROME_PATH) return onPath(process.env.CHROME_PATH);
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']) {
    const p = onPath(name);
    if (p) return p;
  }
  return undefined;
}

/** What `npm test` needs beyond node_modules, with the Debian package that provides each. */
export const TEST_TOOLS = [
  { name: 'Chrome/Chromium (CHROME_PATH)', find: findBrowser, debian: 'chromium' },
  { name: 'rclone', find: () => onPath('rclone'), debian: 'rclone' },
  { name: 's3cmd', find: () => onPath('s3cmd'), debian: 's3cmd' },
];

// Run first by `npm start` and `npm test`. Installs node dependencies when node_modules is
// missing or older than package-lock.json. With --test (npm test) it also makes sure the
// programs the tests drive are there: a Chrome/Chromium, rclone and s3cmd. What is missing is
// installed from Debian's packages when running as root with apt-get; otherwise it stops with
// one line saying what to install (a test must never be skipped for want of a program).

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath, TEST_TOOLS } from './lib/tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
if (stale) {
  const cmd = existsSync(join(root, 'node_modules')) ? 'install' : 'ci';
  console.log(`sealbucket: installing dependencies (npm ${cmd})...`);
  const r = spawnSync('npm', [cmd, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv.includes('--test')) {
  let missing = TEST_TOOLS.filter((t) => !t.find());
  const root = process.getuid?.() === 0;
  if (missing.length && root && onPath('apt-get')) {
    const pkgs = missing.map((t) => t.debian);
    console.log(`sealbucket: installing ${pkgs.join(', ')} for the tests (apt-get)...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env };
    const ok =
      spawnSync('apt-get', ['update', '-qq'], quiet).status === 0 &&
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], quiet).status === 0;
    if (!ok) console.error('sealbucket: apt-get could not install them');
    missing = missing.filter((t) => !t.find());
  }
  if (missing.length) {
    const pkgs = missing.map((t) => t.debian).join(' ');
    console.error(
      `sealbucket: npm test needs ${missing.map((t) => t.name).join(', ')}: install them (Debian/Ubuntu: sudo apt-get install ${pkgs}), then run npm test again.`,
    );
    process.exit(1);
  }
}

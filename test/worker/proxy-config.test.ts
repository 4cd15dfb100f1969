// The proxy layout's pure parts: the UPSTREAMS setting, and the index-name escape
// whose order must match key order for listings to find their index entries.

import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config';
import { escapeKey, unescapeKey } from '../../src/layout/proxy/keys';

const upstream = { endpoint: 'https://s3.example.com', bucket: 'existing', credentials: 'UP' };

describe('UPSTREAMS', () => {
  it('reads a [vars.UPSTREAMS] table or its JSON, with defaults', () => {
    for (const spec of [{ archive: upstream }, JSON.stringify({ archive: upstream })]) {
      expect(readConfig({ UPSTREAMS: spec, REGION: 'eu-west-1' } as never).upstreams).toEqual([
        {
          name: 'archive',
          endpoint: 'https://s3.example.com',
          region: 'eu-west-1',
          bucket: 'existing',
          prefix: '',
          pathStyle: true,
          credentials: 'UP',
          minPart: 5 * 1024 * 1024,
        },
      ]);
    }
    expect(readConfig({} as never).upstreams).toEqual([]);
    expect(readConfig({ UPSTREAMS: { '*': upstream } } as never).upstreams[0].prefix).toBe('{bucket}/');
  });

  it('refuses settings it cannot use', () => {
    const bad: [unknown, RegExp][] = [
      [{ a: { ...upstream, endpoint: 'ftp://x' } }, /endpoint/],
      [{ a: { ...upstream, endpoint: 'https://x/path' } }, /endpoint/],
      [{ a: { ...upstream, bucket: '' } }, /bucket/],
      [{ a: { ...upstream, credentials: undefined } }, /credentials/],
      [{ '*': { ...upstream, prefix: 'all/' } }, /\{bucket\}/],
    ];
    for (const [spec, why] of bad) expect(() => readConfig({ UPSTREAMS: spec } as never), JSON.stringify(spec)).toThrow(why);
  });
});

describe('index entry names', () => {
  // Characters around the escaped ones and the separator, plus ordinary and non-ASCII ones.
  const alphabet = [' ', '!', '"', '#', '/', '0', 'a', '~', 'é', '中'];
  const keys: string[] = [''];
  for (let len = 1; len <= 3; len++) for (const k of keys.filter((x) => x.length === len - 1)) for (const c of alphabet) keys.push(k + c);

  it('round-trip, contain no space, and keep key order with " <etag>" appended', () => {
    const entry = (k: string) => `${escapeKey(k)} 0123abcd`;
    for (const k of keys) {
      expect(unescapeKey(escapeKey(k))).toBe(k);
      expect(escapeKey(k)).not.toContain(' ');
    }
    const sorted = [...keys].sort();
    const byEntry = [...keys].sort((a, b) => (entry(a) < entry(b) ? -1 : entry(a) > entry(b) ? 1 : 0));
    expect(byEntry).toEqual(sorted);
  });
});

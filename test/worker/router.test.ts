import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/protocol/errors';
import { parseRange } from '../../src/s3/protocol/range';
import { address } from '../../src/s3/router';

describe('addressing', () => {
  const bases = ['s3.example.com', 'cos.ap-guangzhou.myqcloud.com'];
  const at = (url: string) => address(new URL(url), new URL(url).host, bases);

  it('path style', () => {
    expect(at('http://127.0.0.1:8787/bucket/a/b%20c.txt')).toEqual({ bucket: 'bucket', key: 'a/b c.txt' });
    expect(at('http://127.0.0.1:8787/bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(at('http://127.0.0.1:8787/bucket/')).toEqual({ bucket: 'bucket', key: '' });
    expect(at('http://127.0.0.1:8787/')).toEqual({ bucket: '', key: '' });
    expect(at('http://127.0.0.1:8787/b/a+b')).toEqual({ bucket: 'b', key: 'a+b' });
  });

  it('virtual-hosted, including COS host names', () => {
    expect(at('https://photos.s3.example.com/2024/x.jpg')).toEqual({ bucket: 'photos', key: '2024/x.jpg' });
    expect(at('https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/exampleobject')).toEqual({
      bucket: 'examplebucket-1250000000',
      key: 'exampleobject',
    });
    expect(at('https://s3.example.com/bucket/key')).toEqual({ bucket: 'bucket', key: 'key' });
  });

  it('refuses an undecodable path', () => {
    expect(() => at('http://h/b/%E0%A4%A')).toThrow(S3Error);
  });
});

describe('Range header', () => {
  it('parses single ranges and suffixes', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ start: 50, end: 99 });
  });

  it('ignores what S3 ignores', () => {
    for (const h of ['bytes=abc', 'items=0-1', 'bytes=0-1,5-6', 'bytes=9-3', 'bytes=-']) expect(parseRange(h, 100)).toBeNull();
  });

  it('refuses unsatisfiable ranges with InvalidRange', () => {
    for (const [h, size] of [
      ['bytes=100-', 100],
      ['bytes=-0', 100],
      ['bytes=0-0', 0],
    ] as const) {
      expect(() => parseRange(h, size)).toThrow(expect.objectContaining({ code: 'InvalidRange', status: 416 }));
    }
  });
});

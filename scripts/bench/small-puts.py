#!/usr/bin/env python3
"""Times boto3 put_object of small objects (and get_object of the same, for comparison) against
a running gateway, with boto3 on its default settings (it sends `Expect: 100-continue` with
every PutObject body and waits up to 1 s for the 100 Continue).

    python3 scripts/bench/small-puts.py [--endpoint http://127.0.0.1:8787] [--count 200] [--size 1024]

Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else .dev.vars (written by `npm start`).
Endpoint: --endpoint, else SEALBUCKET_ENDPOINT, else http://127.0.0.1:$PORT (8787).
"""

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config


def dev_vars():
    out = {}
    path = Path(__file__).resolve().parents[2] / '.dev.vars'
    if path.exists():
        for line in path.read_text().splitlines():
            if '=' in line and not line.startswith('#'):
                k, v = line.split('=', 1)
                out[k.strip()] = v
    return out


def summary(label, times):
    ms = sorted(t * 1000 for t in times)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f'{label:<12} n={len(ms)}  total {sum(ms) / 1000:7.2f} s  mean {statistics.mean(ms):7.1f} ms  '
          f'median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    port = os.environ.get('PORT', '8787')
    ap.add_argument('--endpoint', default=os.environ.get('SEALBUCKET_ENDPOINT', f'http://127.0.0.1:{port}'))
    ap.add_argument('--count', type=int, default=200)
    ap.add_argument('--size', type=int, default=1024, help='bytes per object')
    ap.add_argument('--verify', default=None, help='CA bundle for an https endpoint (npm start -- --https prints it)')
    args = ap.parse_args()

    v = dev_vars()
    s3 = boto3.client(
        's3',
        endpoint_url=args.endpoint,
        region_name=os.environ.get('AWS_DEFAULT_REGION', 'us-east-1'),
        aws_access_key_id=os.environ.get('AWS_ACCESS_KEY_ID', v.get('ACCESS_KEY_ID')),
        aws_secret_access_key=os.environ.get('AWS_SECRET_ACCESS_KEY', v.get('SECRET_ACCESS_KEY')),
        config=Config(s3={'addressing_style': 'path'}),
        verify=args.verify,
    )
    bucket = f'bench-small-puts-{uuid.uuid4().hex[:8]}'
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(args.size)
    puts, gets = [], []
    try:
        # One untimed round trip each way first: connection set-up and the Worker's first load.
        s3.put_object(Bucket=bucket, Key='warm', Body=body)
        s3.get_object(Bucket=bucket, Key='warm')['Body'].read()
        for i in range(args.count):
            t = time.perf_counter()
            s3.put_object(Bucket=bucket, Key=f'o/{i}', Body=body)
            puts.append(time.perf_counter() - t)
        for i in range(args.count):
            t = time.perf_counter()
            got = s3.get_object(Bucket=bucket, Key=f'o/{i}')['Body'].read()
            gets.append(time.perf_counter() - t)
            assert got == body, f'o/{i} came back different'
    finally:
        keys = [{'Key': 'warm'}] + [{'Key': f'o/{i}'} for i in range(len(puts))]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={'Objects': keys[i:i + 1000], 'Quiet': True})
        s3.delete_bucket(Bucket=bucket)
    print(f'{args.endpoint}: {args.count} objects of {args.size} bytes (boto3 defaults)')
    summary('put_object', puts)
    summary('get_object', gets)


if __name__ == '__main__':
    main()

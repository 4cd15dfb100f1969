// Types for front.mjs (imported by the e2e setup).
import type { Server } from 'node:http';

export interface Front {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export function startFront(opts: {
  port: number;
  host?: string;
  target: { host: string; port: number; https?: boolean };
  tls?: { key: string | Buffer; cert: string | Buffer };
  log?: (line: string) => void;
}): Promise<Front>;

export function selfSignedCertificate(dir: string): { key: Buffer; cert: Buffer; certFile: string };

/**
 * The shipped sweeper bundle (dist/handlers/sweeper/index.js): its size, and
 * what a cold start spends on it, in fresh Node processes:
 *  - load: `require` of the bundle (module evaluation, as Lambda's init does);
 *  - load + clients: `require`, then one handler invocation whose clients are
 *    built and whose first call is refused at once (a closed loopback port,
 *    one attempt). This is an upper bound on load + client construction: it
 *    also pays the first request's serialization and signing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as zlib from 'zlib';

export interface LambdaPackageResult {
  readonly bundlePath: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly runs: number;
  readonly loadMs: number[];
  readonly loadAndClientsMs: number[];
  readonly medianLoadMs: number;
  readonly medianLoadAndClientsMs: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const LOAD_ONLY = `
const t0 = process.hrtime.bigint();
require(process.argv[1]);
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
`;

const LOAD_AND_CLIENTS = `
const t0 = process.hrtime.bigint();
const m = require(process.argv[1]);
m.handler({}).then(
  () => console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, reached: 'ok' })),
  e => console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, reached: String(e && (e.code || e.name)) })),
);
`;

export async function measureLambdaPackage(bundlePath: string, runs: number): Promise<LambdaPackageResult> {
  const bytes = fs.statSync(bundlePath).size;
  const gzipBytes = zlib.gzipSync(fs.readFileSync(bundlePath)).length;
  const port = await closedPort();
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_MAX_ATTEMPTS: '1',
    PERMISSION_DECAY_LEDGER_TABLE: 'permission-decay-ledger-bench',
  };
  const run = (script: string): { ms: number; reached?: string } => {
    const r = spawnSync(process.execPath, ['-e', script, bundlePath], { env, encoding: 'utf8', timeout: 30000 });
    const line = (r.stdout ?? '')
      .trim()
      .split('\n')
      .filter(l => l.startsWith('{"ms"'))
      .pop();
    if (!line) throw new Error(`lambda load probe failed: ${r.stderr}`);
    return JSON.parse(line);
  };
  const loadMs: number[] = [];
  const loadAndClientsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    loadMs.push(run(LOAD_ONLY).ms);
    loadAndClientsMs.push(run(LOAD_AND_CLIENTS).ms);
  }
  return {
    bundlePath,
    bytes,
    gzipBytes,
    runs,
    loadMs,
    loadAndClientsMs,
    medianLoadMs: median(loadMs),
    medianLoadAndClientsMs: median(loadAndClientsMs),
  };
}

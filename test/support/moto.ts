/**
 * The moto harness: starts `moto_server` on loopback on a free port, waits
 * until it answers, and stops it on `stop()` and on process exit. Shared by the
 * sweeper, benchmark and reliability suites. Tests use the real SDK v3 clients
 * against it (never mocked clients).
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
import * as net from 'net';

export interface Moto {
  /** e.g. http://127.0.0.1:51234 */
  readonly endpoint: string;
  readonly port: number;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Kills the server. */
  stop(): Promise<void>;
}

/** SDK client configuration for the emulator: us-east-1, dummy credentials, the endpoint. */
export function clientConfig(endpoint: string, credentials?: { accessKeyId: string; secretAccessKey: string }) {
  return {
    region: 'us-east-1',
    endpoint,
    credentials: credentials ?? { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function request(method: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 2000 }, res => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });
}

/** Starts a fresh moto_server on a free loopback port. */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<Moto> {
  installExitHook();
  const deadline = Date.now() + (options.timeoutMs ?? 30000);
  let lastError: unknown;
  // A port can be taken between probing and binding: retry with a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
    });
    running.add(child);
    let exited = false;
    let stderr = '';
    child.stderr?.on('data', d => { stderr = (stderr + d.toString()).slice(-4000); });
    child.on('exit', () => { exited = true; running.delete(child); });
    while (!exited && Date.now() < deadline) {
      try {
        const status = await request('GET', `${endpoint}/moto-api/`);
        if (status > 0) {
          return {
            endpoint,
            port,
            reset: async () => {
              const s = await request('POST', `${endpoint}/moto-api/reset`);
              if (s !== 200) throw new Error(`moto reset answered ${s}`);
            },
            stop: () => new Promise<void>(resolve => {
              if (exited) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
              setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000).unref();
            }),
          };
        }
      } catch (e) {
        lastError = e;
      }
      await new Promise(r => setTimeout(r, 150));
    }
    if (!exited) child.kill('SIGKILL');
    lastError = new Error(`moto_server on port ${port} did not answer: ${stderr || String(lastError)}`);
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

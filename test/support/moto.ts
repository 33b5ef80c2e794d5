/**
 * The moto harness: starts `moto_server` on loopback on a free port, waits
 * until it answers, and stops it on `stop()` and on process exit. Shared by the
 * sweeper, benchmark and reliability suites. Tests use the real SDK v3 clients
 * against it (never mocked clients).
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';

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
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/**
 * Starts a fresh moto_server on a loopback port the kernel picks (`-p 0`) and
 * reads that port from the server's own "Running on" line. The endpoint is
 * therefore always this child's: probing a free port and then connecting to
 * whatever answers there could hand a test another worker's emulator (which
 * that worker then resets).
 */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<Moto> {
  installExitHook();
  const deadline = Date.now() + (options.timeoutMs ?? 30000);
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  running.add(child);
  let exited = false;
  let stderr = '';
  let port: number | undefined;
  child.stderr?.on('data', d => {
    stderr = (stderr + d.toString()).slice(-4000);
    port ??= Number(/Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]) || undefined;
  });
  child.on('exit', () => {
    exited = true;
    running.delete(child);
  });
  let lastError: unknown;
  while (!exited && Date.now() < deadline) {
    if (port !== undefined) {
      const endpoint = `http://127.0.0.1:${port}`;
      try {
        const status = await request('GET', `${endpoint}/moto-api/`);
        if (status > 0) return motoHandle(child, endpoint, port, () => exited);
      } catch (e) {
        lastError = e;
      }
    }
    await new Promise(r => setTimeout(r, 100));
  }
  if (!exited) child.kill('SIGKILL');
  throw new Error(`moto_server did not start${exited ? ' (it exited)' : ''}: ${stderr || String(lastError ?? 'no output')}`);
}

function motoHandle(child: ChildProcess, endpoint: string, port: number, hasExited: () => boolean): Moto {
  return {
    endpoint,
    port,
    reset: async () => {
      const s = await request('POST', `${endpoint}/moto-api/reset`);
      if (s !== 200) throw new Error(`moto reset answered ${s}`);
    },
    stop: () =>
      new Promise<void>(resolve => {
        if (hasExited()) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => {
          if (!hasExited()) child.kill('SIGKILL');
        }, 3000).unref();
      }),
  };
}

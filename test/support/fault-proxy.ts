/**
 * A loopback fault-injection proxy between the SDK clients and the emulator.
 * For each request a `decide` hook picks a fault: a throttling error in the
 * service's own wire format (IAM/STS/SNS query XML `Throttling`, DynamoDB JSON
 * `ThrottlingException`), a 500, a dropped connection (before forwarding, or
 * after the emulator applied the call, so the write lands but the client never
 * hears of it), latency, or an answer as if another actor had changed the role
 * (`ConcurrentModification`, `NoSuchEntity`). An `observe` hook runs before a
 * request is forwarded (invariant checks, killing a child process).
 *
 * Self-contained (does not depend on the benchmark's aws-proxy.ts, which was
 * not committed when this was written); the request identification is the same.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

export interface FaultRequest {
  /** 1, 2, 3, ... in arrival order. */
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** SigV4 signing name: iam, dynamodb, ssm, events, sns, sts. */
  readonly service: string;
  /** Query Action or X-Amz-Target operation. */
  readonly action: string;
  /** SDK attempt number (amz-sdk-request: attempt=N; max=M), 1 when absent. */
  readonly attempt: number;
  /** SDK max attempts for this call, 1 when absent. */
  readonly maxAttempts: number;
  /** Query parameters of a query-protocol call (IAM, STS, SNS), or the JSON body of a JSON call. */
  readonly params: Record<string, unknown>;
}

export type Fault =
  | { readonly kind: 'forward'; readonly delayMs?: number }
  | { readonly kind: 'throttle'; readonly delayMs?: number }
  | { readonly kind: 'server-error'; readonly delayMs?: number }
  /** Destroy the socket without forwarding. */
  | { readonly kind: 'drop'; readonly delayMs?: number }
  /** Forward (the emulator applies it), then destroy the socket instead of answering. `after` runs once the emulator answered. */
  | { readonly kind: 'drop-after'; readonly delayMs?: number; readonly after?: () => void }
  /** IAM 409 ConcurrentModification (not applied). */
  | { readonly kind: 'concurrent-modification'; readonly delayMs?: number }
  /** IAM 404 NoSuchEntity (not applied). */
  | { readonly kind: 'no-such-entity'; readonly delayMs?: number }
  /** Never answer (until the proxy closes). */
  | { readonly kind: 'hang' };

export interface FaultProxyOptions {
  readonly target: string;
  /** Picks the fault for a request. Undefined: forward. */
  readonly decide?: (req: FaultRequest) => Fault | undefined;
  /** Runs (awaited) before the fault is applied: invariant checks, side effects of "another actor". */
  readonly observe?: (req: FaultRequest) => void | Promise<void>;
  /** Latency added to every request. @default 0 */
  readonly latencyMs?: number;
  /**
   * Requests for which this returns true reach the emulator one at a time.
   * moto 5.2.1 is not safe under concurrent writes: a TransactWriteItems whose
   * condition fails restores a copy of the whole table taken before it began,
   * erasing what other requests committed meanwhile (real DynamoDB isolates
   * transactions). Serialising writes gives each call the atomicity AWS gives
   * it, while the callers still race at the level the sweeper must handle.
   * @default none
   */
  readonly serialize?: (req: FaultRequest) => boolean;
}

export interface FaultStats {
  readonly requests: number;
  /** Faults applied, by kind. */
  readonly faults: Record<string, number>;
  /** Requests by service:action. */
  readonly byAction: Record<string, number>;
}

export interface FaultProxy {
  readonly endpoint: string;
  stats(): FaultStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Writes: every call that changes IAM, the ledger or sends a message. */
export const WRITE_ACTIONS = new Set([
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:AttachRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicyVersion',
  'dynamodb:TransactWriteItems',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'events:PutEvents',
  'sns:Publish',
]);

export function isWrite(req: Pick<FaultRequest, 'service' | 'action'>): boolean {
  return WRITE_ACTIONS.has(`${req.service}:${req.action}`);
}

const sleep = (ms: number) => new Promise<void>(r => (ms > 0 ? setTimeout(r, ms) : r()));

function identify(method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer) {
  const auth = String(headers.authorization ?? '');
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth);
  const service = scope ? scope[1] : 'unknown';
  const sdk = /attempt=(\d+);\s*max=(\d+)/.exec(String(headers['amz-sdk-request'] ?? ''));
  const attempt = sdk ? Number(sdk[1]) : 1;
  const maxAttempts = sdk ? Number(sdk[2]) : 1;
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) {
    let params: Record<string, unknown> = {};
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      /* not JSON */
    }
    return { service, action: target.slice(target.lastIndexOf('.') + 1), attempt, maxAttempts, params };
  }
  const text = body.length ? body.toString('utf8') : (path.split('?')[1] ?? '');
  const params: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) params[k] = v;
  const action = typeof params.Action === 'string' ? params.Action : `${method} ${path.split('?')[0]}`;
  return { service, action, attempt, maxAttempts, params };
}

const QUERY_NAMESPACE: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

/** An error answer in the service's own wire format. */
export function errorAnswer(
  service: string,
  status: number,
  code: string,
  message: string,
): { status: number; headers: Record<string, string>; body: string } {
  const requestId = `fault-${Math.random().toString(16).slice(2)}`;
  if (QUERY_NAMESPACE[service] || service === 'unknown') {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<ErrorResponse xmlns="${QUERY_NAMESPACE[service] ?? QUERY_NAMESPACE.iam}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  // JSON protocols (DynamoDB 1.0, SSM and EventBridge 1.1).
  const prefix = service === 'dynamodb' ? 'com.amazonaws.dynamodb.v20120810#' : '';
  return {
    status,
    headers: {
      'content-type': service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: `${prefix}${code}`, message }),
  };
}

function answerFor(req: FaultRequest, fault: Fault): { status: number; headers: Record<string, string>; body: string } | undefined {
  switch (fault.kind) {
    case 'throttle':
      return req.service === 'dynamodb' || req.service === 'ssm' || req.service === 'events'
        ? errorAnswer(req.service, 400, 'ThrottlingException', 'Rate exceeded')
        : errorAnswer(req.service, 400, 'Throttling', 'Rate exceeded');
    case 'server-error':
      return req.service === 'dynamodb'
        ? errorAnswer(req.service, 500, 'InternalServerError', 'Internal server error')
        : errorAnswer(req.service, 500, 'InternalFailure', 'We encountered an internal error. Please try again.');
    case 'concurrent-modification':
      return errorAnswer(
        req.service,
        409,
        'ConcurrentModification',
        'Rate exceeded for concurrent modification of the role; another actor changed it',
      );
    case 'no-such-entity':
      return errorAnswer(req.service, 404, 'NoSuchEntity', `The role cannot be found (changed by another actor).`);
    default:
      return undefined;
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let seq = 0;
  let stats = { requests: 0, faults: {} as Record<string, number>, byAction: {} as Record<string, number> };
  const hanging = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch(e => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`fault-proxy: ${(e as Error).message}`);
        } else {
          res.destroy();
        }
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const request: FaultRequest = { seq: ++seq, method, path, headers: req.headers, body, ...identify(method, path, req.headers, body) };
    stats.requests++;
    const key = `${request.service}:${request.action}`;
    stats.byAction[key] = (stats.byAction[key] ?? 0) + 1;
    await options.observe?.(request);
    const fault = options.decide?.(request) ?? { kind: 'forward' as const };
    if (fault.kind !== 'forward') stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1;
    await sleep((options.latencyMs ?? 0) + ('delayMs' in fault ? (fault.delayMs ?? 0) : 0));
    if (fault.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    const answer = answerFor(request, fault);
    if (answer) {
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
    const upstream = options.serialize?.(request) ? await oneAtATime(() => forward(request)) : await forward(request);
    if (fault.kind === 'drop-after') {
      fault.after?.();
      req.socket.destroy();
      return;
    }
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  }

  let queue: Promise<unknown> = Promise.resolve();
  function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  }

  function forward(request: FaultRequest): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers: { ...request.headers, host: target.host },
          agent,
        },
        r => {
          const chunks: Buffer[] = [];
          r.on('data', c => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) }));
          r.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(request.body);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ requests: stats.requests, faults: { ...stats.faults }, byAction: { ...stats.byAction } }),
    resetStats: () => {
      stats = { requests: 0, faults: {}, byAction: {} };
    },
    close: () =>
      new Promise<void>(resolve => {
        for (const h of hanging) h.destroy();
        agent.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** A small seeded PRNG (mulberry32), so a faulted run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

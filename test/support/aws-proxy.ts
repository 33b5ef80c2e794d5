/**
 * A loopback HTTP proxy in front of the emulator that makes it behave more like
 * an AWS account: a fixed latency per call and a token-bucket rate limit (IAM's
 * control plane throttles at a rate that cannot be raised). A per-request hook
 * decides, call by call, to forward, answer in place of the emulator (e.g. a
 * throttling error or a 500) or drop the connection, so fault-injection suites
 * reuse the same proxy.
 *
 * Point SDK clients at `proxy.endpoint` instead of the emulator's endpoint.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

/** One request as the proxy saw it, before it is forwarded. */
export interface ProxyRequest {
  /** 1, 2, 3, ... in arrival order. */
  readonly seq: number;
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** Signing name from the SigV4 credential scope: iam, dynamodb, ssm, events, sns, sts, s3, ... ('unknown' if unsigned). */
  readonly service: string;
  /** Operation: the query protocol's Action, or the JSON protocol's X-Amz-Target operation, else `METHOD /path`. */
  readonly action: string;
}

/** What to do with a request. */
export type ProxyVerdict =
  /** Send it to the emulator (after `delayMs` more). */
  | { readonly kind: 'forward'; readonly delayMs?: number }
  /** Answer it without the emulator, e.g. a Throttling error or a 500. */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: string;
      readonly delayMs?: number;
    }
  /** Close the connection without an answer (the client sees a reset socket). */
  | { readonly kind: 'drop'; readonly delayMs?: number };

/** A token bucket: `perSecond` tokens a second, at most `burst` saved up. */
export interface RateLimitOptions {
  readonly perSecond: number;
  /** Tokens the bucket holds when full (and at start). @default 1 */
  readonly burst?: number;
  /** Which requests take a token. @default every request */
  readonly appliesTo?: (req: ProxyRequest) => boolean;
}

export interface AwsProxyOptions {
  /** The emulator's endpoint, e.g. http://127.0.0.1:51234. */
  readonly target: string;
  /** Fixed delay added to every call before it is forwarded (or answered by the hook). @default 0 */
  readonly latencyMs?: number;
  /** Rate limit; requests wait in arrival order for a token. @default none */
  readonly rateLimit?: RateLimitOptions;
  /** Decides per request; runs after the rate limit, before the latency. Undefined: forward. @default forward everything */
  readonly onRequest?: (req: ProxyRequest) => ProxyVerdict | undefined | Promise<ProxyVerdict | undefined>;
  /** Loopback port to listen on. @default a free port */
  readonly port?: number;
}

export interface ProxyStats {
  /** Requests received, by `service:action`. */
  readonly byAction: Record<string, number>;
  readonly requests: number;
  readonly forwarded: number;
  readonly answered: number;
  readonly dropped: number;
  /** Total milliseconds requests spent waiting for a rate-limit token. */
  readonly rateLimitWaitMs: number;
  /** Most requests in flight at once. */
  readonly maxInFlight: number;
}

export interface AwsProxy {
  /** e.g. http://127.0.0.1:40123 */
  readonly endpoint: string;
  readonly port: number;
  stats(): ProxyStats;
  resetStats(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>(resolve => (ms > 0 ? setTimeout(resolve, ms) : resolve()));

/** Token bucket with a FIFO of waiters, so requests are served in arrival order. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  private readonly burst: number;

  constructor(
    private readonly perSecond: number,
    burst = 1,
  ) {
    if (!(perSecond > 0)) throw new Error(`rate must be positive, got ${perSecond}`);
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
  }

  /** Resolves when a token was taken; returns the milliseconds waited. */
  take(): Promise<number> {
    const started = Date.now();
    const turn = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn.then(() => Date.now() - started);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}

/** Service and operation of a signed AWS request. */
export function identifyRequest(
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
): { service: string; action: string } {
  const auth = String(headers.authorization ?? '');
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth);
  const service = scope ? scope[1] : 'unknown';
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) return { service, action: target.slice(target.lastIndexOf('.') + 1) };
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  for (const text of [body.toString('utf8', 0, Math.min(body.length, 4096)), query]) {
    const m = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(text);
    if (m) return { service, action: m[1] };
  }
  return { service, action: `${method} ${path.split('?')[0]}` };
}

/** Starts the proxy on loopback. */
export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const bucket = options.rateLimit ? new TokenBucket(options.rateLimit.perSecond, options.rateLimit.burst) : undefined;
  let seq = 0;
  let inFlight = 0;
  let stats = emptyStats();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch(e => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`aws-proxy: ${(e as Error).message}`);
        } else {
          res.destroy();
        }
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const id = identifyRequest(method, path, req.headers, body);
    const request: ProxyRequest = { seq: ++seq, method, path, headers: req.headers, body, ...id };
    const key = `${id.service}:${id.action}`;
    stats.byAction[key] = (stats.byAction[key] ?? 0) + 1;
    stats.requests++;
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      if (bucket && (options.rateLimit?.appliesTo?.(request) ?? true)) stats.rateLimitWaitMs += await bucket.take();
      const verdict: ProxyVerdict = (await options.onRequest?.(request)) ?? { kind: 'forward' };
      await sleep((options.latencyMs ?? 0) + (verdict.delayMs ?? 0));
      if (verdict.kind === 'drop') {
        stats.dropped++;
        req.socket.destroy();
        return;
      }
      if (verdict.kind === 'respond') {
        stats.answered++;
        res.writeHead(verdict.status, { 'content-type': 'text/xml', ...(verdict.headers ?? {}) });
        res.end(verdict.body ?? '');
        return;
      }
      stats.forwarded++;
      await forward(request, res);
    } finally {
      inFlight--;
    }
  }

  function forward(request: ProxyRequest, res: http.ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers = { ...request.headers, host: target.host };
      const upstream = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers,
          agent,
        },
        up => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => resolve());
          up.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(request.body);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.keepAliveTimeout = 30000;
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats: () => ({ ...stats, byAction: { ...stats.byAction } }),
    resetStats: () => {
      stats = emptyStats();
    },
    close: () =>
      new Promise<void>(resolve => {
        agent.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

type MutableStats = { -readonly [K in keyof ProxyStats]: ProxyStats[K] };

function emptyStats(): MutableStats {
  return { byAction: {}, requests: 0, forwarded: 0, answered: 0, dropped: 0, rateLimitWaitMs: 0, maxInFlight: 0 };
}

/**
 * Counts AWS API calls by command name with SDK middleware, so benchmarks and
 * tests report calls as made instead of estimating them.
 *
 * Two figures per command: `calls` (one per `client.send`, counted at the
 * initialize step, before retries) and `attempts` (one per HTTP request the
 * SDK sent, counted at the deserialize step, which the retry loop repeats).
 * Throttling quotas are spent per attempt; a plan's cost is its calls.
 */
import type { MiddlewareStack } from '@smithy/types';

/** A client whose middleware stack can take the counter (every SDK v3 client, and lib-dynamodb's). */
export interface CountableClient {
  readonly middlewareStack: MiddlewareStack<any, any>;
}

export interface CommandCount {
  readonly service: string;
  readonly command: string;
  readonly kind: 'read' | 'write';
  calls: number;
  attempts: number;
  /** Milliseconds spent in these calls (summed; concurrent calls overlap). */
  ms: number;
}

/** Operation name prefixes that only read. Everything else is counted as a write. */
const READ_PREFIXES = ['Get', 'List', 'Describe', 'Query', 'Scan', 'BatchGet', 'Simulate', 'Lookup', 'Search', 'Generate', 'Head'];

/** `read` or `write` for an operation name (with or without the `Command` suffix). */
export function operationKind(operation: string): 'read' | 'write' {
  const name = operation.replace(/Command$/, '');
  return READ_PREFIXES.some(p => name.startsWith(p)) ? 'read' : 'write';
}

/** Short service label from the SDK's client name: IAMClient -> iam, DynamoDBClient -> dynamodb. */
function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'unknown')
    .replace(/Client$/, '')
    .replace(/DocumentClient$/, '')
    .toLowerCase();
}

/** Call counts for a set of clients, by service and command. */
export class CallCounter {
  private readonly counts = new Map<string, CommandCount>();

  /** Adds the counting middleware to a client. Idempotent per client. */
  attach<T extends CountableClient>(client: T, serviceLabel?: string): T {
    const stack = client.middlewareStack;
    const tag = 'permissionDecayCallCounter';
    // lib-dynamodb's DocumentClient shares its inner client's stack: attaching twice would count twice.
    try {
      stack.remove(`${tag}Calls`);
      stack.remove(`${tag}Attempts`);
    } catch {
      /* not there yet */
    }
    stack.add(
      (next, context) => async args => {
        const entry = this.entry(serviceLabel ?? serviceOf(context.clientName), context.commandName);
        entry.calls++;
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          entry.ms += performance.now() - started;
        }
      },
      { step: 'initialize', name: `${tag}Calls`, priority: 'high', override: true },
    );
    stack.add(
      (next, context) => async args => {
        this.entry(serviceLabel ?? serviceOf(context.clientName), context.commandName).attempts++;
        return next(args);
      },
      { step: 'deserialize', name: `${tag}Attempts`, priority: 'low', override: true },
    );
    return client;
  }

  private entry(service: string, commandName: string | undefined): CommandCount {
    const command = (commandName ?? 'Unknown').replace(/Command$/, '');
    const key = `${service}:${command}`;
    let c = this.counts.get(key);
    if (!c) {
      c = { service, command, kind: operationKind(command), calls: 0, attempts: 0, ms: 0 };
      this.counts.set(key, c);
    }
    return c;
  }

  /** Forgets every count (clients stay attached). */
  reset(): void {
    this.counts.clear();
  }

  /** Every (service, command) seen, sorted. */
  list(): CommandCount[] {
    return [...this.counts.values()]
      .map(c => ({ ...c }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.command.localeCompare(b.command));
  }

  /** Total calls, optionally for one service and/or kind. */
  total(filter: { service?: string; kind?: 'read' | 'write' } = {}): number {
    return this.list()
      .filter(c => (filter.service === undefined || c.service === filter.service) && (filter.kind === undefined || c.kind === filter.kind))
      .reduce((n, c) => n + c.calls, 0);
  }

  /** Total attempts (HTTP requests), optionally filtered. */
  totalAttempts(filter: { service?: string; kind?: 'read' | 'write' } = {}): number {
    return this.list()
      .filter(c => (filter.service === undefined || c.service === filter.service) && (filter.kind === undefined || c.kind === filter.kind))
      .reduce((n, c) => n + c.attempts, 0);
  }

  /** Calls of one command (name without `Command`). */
  calls(command: string, service?: string): number {
    return this.list()
      .filter(c => c.command === command && (service === undefined || c.service === service))
      .reduce((n, c) => n + c.calls, 0);
  }

  /** `{ "iam:GetAccountAuthorizationDetails": 1, ... }` for reports. */
  byCommand(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.list()) out[`${c.service}:${c.command}`] = c.calls;
    return out;
  }
}

/**
 * The sweeper Lambda: reads its configuration from SWEEPER_ENV, runs one sweep
 * (the same code as `permission-decay sweep`) and returns a summary. Clients
 * use the SDK's standard chains, so AWS_ENDPOINT_URL is honoured.
 */
import { formatExpiry, normalizeInstant } from '../private/contract';
import { createClients } from './aws-clients';
import { runSweep, sweepConfigFromEnv } from './sweep';

export interface SweepSummary {
  readonly runId: string;
  readonly at: string;
  readonly decisions: { readonly [decision: string]: number };
  readonly errors: readonly { code: string; message: string; roleName?: string; grant?: string }[];
  readonly leftRoles: readonly string[];
  readonly ok: boolean;
}

/** The part of an EventBridge scheduled event the sweeper reads. */
interface ScheduledEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly time?: string;
}

/**
 * The instant a sweep judges by: the scheduled event's `time` (so a retried
 * invocation decides exactly as the first attempt did, and a replayed event is
 * deterministic), else the current second. Only a well-formed scheduled event
 * is honoured; anything else is the real clock.
 */
export function sweepInstant(event: unknown, clock: () => Date = () => new Date()): string {
  const e = (event ?? {}) as ScheduledEvent;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event' && typeof e.time === 'string') {
    try {
      return normalizeInstant(e.time, 'scheduled event time');
    } catch {
      // A malformed time is not a reason to judge by a wrong instant: use the clock.
    }
  }
  return formatExpiry(clock());
}

export async function handler(event?: unknown): Promise<SweepSummary> {
  const config = { ...sweepConfigFromEnv(process.env), now: sweepInstant(event) };
  const result = await runSweep(createClients(), config);
  const decisions: Record<string, number> = {};
  for (const o of result.outcomes) decisions[o.decision] = (decisions[o.decision] ?? 0) + 1;
  const summary: SweepSummary = { runId: result.runId, at: result.at, decisions, errors: result.errors, leftRoles: result.leftRoles, ok: result.ok };
  console.log(JSON.stringify({ msg: 'permission-decay sweep', ...summary }));
  return summary;
}

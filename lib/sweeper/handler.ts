/**
 * The sweeper Lambda: reads its configuration from SWEEPER_ENV, runs one sweep
 * (the same code as `permission-decay sweep`) and returns a summary. Clients
 * use the SDK's standard chains, so AWS_ENDPOINT_URL is honoured.
 */
import { createClients } from './aws-clients';
import { chooseSweepInstant } from './sweep-clock';
import { runSweep, sweepConfigFromEnv } from './sweep';

export interface SweepSummary {
  readonly runId: string;
  readonly at: string;
  readonly decisions: { readonly [decision: string]: number };
  readonly errors: readonly { code: string; message: string; roleName?: string; grant?: string }[];
  readonly leftRoles: readonly string[];
  readonly ok: boolean;
}

/**
 * The instant a sweep judges by: the scheduled event's `time` (so a retried
 * invocation decides exactly as the first attempt did) when it lies within a
 * bounded skew of the real clock, else the real clock (lib/sweeper/sweep-clock.ts).
 * A refused time is logged: it is either a very late retry or a forged event.
 */
export function sweepInstant(event: unknown, clock: () => Date = () => new Date()): string {
  const choice = chooseSweepInstant(event, clock);
  if (choice.refused) {
    console.warn(JSON.stringify({ msg: 'permission-decay sweep instant', instant: choice.instant, refused: choice.refused }));
  }
  return choice.instant;
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

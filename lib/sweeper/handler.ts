/**
 * The sweeper Lambda: reads its configuration from SWEEPER_ENV, runs one sweep
 * (the same code as `permission-decay sweep`) and returns a summary. Clients
 * use the SDK's standard chains, so AWS_ENDPOINT_URL is honoured.
 *
 * Failures cannot be hidden: the summary is a structured log line (Powertools
 * Logger), the counts are CloudWatch metrics in embedded metric format
 * (Powertools Metrics), and a sweep in which any role or step failed throws
 * after recording them, so the function's Errors alarm, its retries and its
 * dead-letter queue all see it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SWEEPER_METRICS } from '../contract';
import { createClients } from './aws-clients';
import { chooseSweepInstant } from './sweep-clock';
import { runSweep, sweepConfigFromEnv } from './sweep';
import { sweepCounts } from './sweep-metrics';

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

/** A sweep that ran but failed for some roles or steps: thrown so the invocation counts as failed. */
export class SweepFailedError extends Error {
  readonly code = 'SWEEP_FAILED';
  constructor(readonly summary: SweepSummary) {
    super(
      `permission-decay sweep ${summary.runId} at ${summary.at} failed for ${new Set(summary.errors.map(e => e.roleName ?? '-')).size} role(s): ` +
        summary.errors
          .slice(0, 5)
          .map(e => `${e.roleName ?? '-'}${e.grant ? `/${e.grant}` : ''}: ${e.code}`)
          .join('; '),
    );
    this.name = 'SweepFailedError';
  }
}

export async function handler(event?: unknown): Promise<SweepSummary> {
  const logger = new Logger({ serviceName: SWEEPER_METRICS.service });
  const metrics = new Metrics({ namespace: SWEEPER_METRICS.namespace, serviceName: SWEEPER_METRICS.service });
  try {
    const config = { ...sweepConfigFromEnv(process.env), now: sweepInstant(event) };
    const result = await runSweep(createClients(), config);
    const decisions: Record<string, number> = {};
    for (const o of result.outcomes) decisions[o.decision] = (decisions[o.decision] ?? 0) + 1;
    const summary: SweepSummary = {
      runId: result.runId,
      at: result.at,
      decisions,
      errors: result.errors,
      leftRoles: result.leftRoles,
      ok: result.ok,
    };
    const counts = sweepCounts(result);
    for (const [name, value] of Object.entries(counts)) metrics.addMetric(name, MetricUnit.Count, value);
    if (result.errors.length > 0) {
      metrics.addMetric(SWEEPER_METRICS.failedSweeps, MetricUnit.Count, 1);
      logger.error('permission-decay sweep failed', { ...summary, counts });
      throw new SweepFailedError(summary);
    }
    metrics.addMetric(SWEEPER_METRICS.failedSweeps, MetricUnit.Count, 0);
    if (result.leftRoles.length > 0) logger.warn('permission-decay sweep ran out of time; the next sweep does the rest', { ...summary });
    else logger.info('permission-decay sweep', { ...summary, counts });
    return summary;
  } catch (e) {
    if (!(e instanceof SweepFailedError)) {
      // The sweep could not run at all (configuration, the account snapshot, the ledger): every role is unswept.
      metrics.addMetric(SWEEPER_METRICS.failedSweeps, MetricUnit.Count, 1);
      logger.error('permission-decay sweep could not run', { error: e as Error });
    }
    throw e;
  } finally {
    metrics.publishStoredMetrics();
  }
}

/**
 * The sweeps the benchmark measures, each run in a fresh child process (so
 * its memory figures are its own): our sweeper (full, or read + decide only)
 * and the per-role reference reader followed by the same decision. Every
 * client carries the call counter.
 */
import { createHash } from 'crypto';
import { AwsClients, createClients } from '../lib/sweeper/aws-clients';
import { decide, SweepPlan } from '../lib/sweeper/decide';
import { readLedgerState, stableJson } from '../lib/sweeper/ledger';
import { readRenewals } from '../lib/sweeper/renewal';
import { readSpecs } from '../lib/sweeper/specs';
import { decideOptionsOf, runSweep, SweepConfig } from '../lib/sweeper/sweep';
import { renewalKeysNeeded } from '../lib/sweeper/decide';
import { CallCounter, CommandCount } from '../test/support/call-counter';
import { clientConfig } from '../test/support/moto';
import { readSnapshotPerRole } from './per-role-reader';

export type SweepMode =
  /** runSweep: read, decide, apply. */
  | 'ours'
  /** runSweep with dryRun: read and decide. */
  | 'ours-dry'
  /** The per-role reader, then the same ledger/spec/renewal reads and the same decide. */
  | 'per-role-dry';

export interface SweepRunInput {
  readonly mode: SweepMode;
  readonly endpoint: string;
  readonly table: string;
  readonly topicArn: string;
  /** The sweep's instant (expiry form). */
  readonly now: string;
  /** Reader concurrency of the per-role reference. @default 4 */
  readonly perRoleConcurrency?: number;
}

export interface PlanStats {
  readonly roles: number;
  readonly steps: number;
  readonly records: number;
  readonly iamActions: number;
  readonly notifies: number;
  readonly byDecision: Record<string, number>;
  /** sha256 of the plan with each role's steps in a canonical order. */
  readonly digest: string;
}

export interface SweepRunOutput {
  readonly mode: SweepMode;
  readonly wallMs: number;
  readonly calls: CommandCount[];
  readonly plan: PlanStats;
  /** Outcomes by decision (full sweeps). */
  readonly outcomes: Record<string, number>;
  readonly failedOutcomes: number;
  readonly firstErrors: string[];
  readonly memory: { readonly peakRssMb: number; readonly peakHeapUsedMb: number; readonly sampleEveryMs: number };
}

export function planStats(plan: SweepPlan): PlanStats {
  const byDecision: Record<string, number> = {};
  let steps = 0;
  let records = 0;
  let iamActions = 0;
  let notifies = 0;
  const canonical = plan.roles
    .filter(r => r.steps.length > 0)
    .map(r => ({
      roleName: r.roleName,
      agentId: r.agentId,
      steps: r.steps.map(s => stableJson(s)).sort(),
    }));
  for (const r of plan.roles) {
    for (const s of r.steps) {
      steps++;
      iamActions += s.actions.length;
      if (s.notify) notifies++;
      if (s.record) {
        records++;
        byDecision[s.record.decision] = (byDecision[s.record.decision] ?? 0) + 1;
      }
    }
  }
  const digest = createHash('sha256').update(stableJson(canonical)).digest('hex');
  return { roles: plan.roles.length, steps, records, iamActions, notifies, byDecision, digest };
}

export function countedClients(endpoint: string, counter: CallCounter): AwsClients {
  const clients = createClients(clientConfig(endpoint));
  for (const c of [clients.iam, clients.ddb, clients.ssm, clients.events, clients.sns, clients.sts]) counter.attach(c);
  return clients;
}

/** Runs one sweep and measures it. */
export async function runSweepScenario(input: SweepRunInput): Promise<SweepRunOutput> {
  const counter = new CallCounter();
  const clients = countedClients(input.endpoint, counter);
  const config: SweepConfig = { ledgerTable: input.table, ownerTopicArn: input.topicArn, now: input.now, runId: `bench-${input.mode}` };
  let peakHeap = 0;
  const sampleEveryMs = 20;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, sampleEveryMs);
  const started = process.hrtime.bigint();
  let plan: SweepPlan;
  const outcomes: Record<string, number> = {};
  let failedOutcomes = 0;
  const firstErrors: string[] = [];
  try {
    if (input.mode === 'per-role-dry') {
      const options = decideOptionsOf(config);
      const clock = { now: new Date(input.now) };
      const [snapshot, ledgerState, specs] = await Promise.all([
        readSnapshotPerRole(clients.iam, { concurrency: input.perRoleConcurrency }),
        readLedgerState(clients.ddb, input.table),
        readSpecs(clients.ssm),
      ]);
      const renewals = await readRenewals(clients.ddb, input.table, renewalKeysNeeded(snapshot, ledgerState, specs, clock, options));
      plan = decide(snapshot, ledgerState, specs, renewals, clock, options);
    } else {
      const result = await runSweep(clients, { ...config, dryRun: input.mode === 'ours-dry' });
      plan = result.plan;
      for (const o of result.outcomes) {
        outcomes[o.decision] = (outcomes[o.decision] ?? 0) + 1;
        if (!o.ok) {
          failedOutcomes++;
          if (firstErrors.length < 5) firstErrors.push(`${o.roleName}/${o.grant ?? '-'}: ${o.errorCode} ${o.message}`);
        }
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  return {
    mode: input.mode,
    wallMs,
    calls: counter.list(),
    plan: planStats(plan),
    outcomes,
    failedOutcomes,
    firstErrors,
    memory: { peakRssMb: process.resourceUsage().maxRSS / 1024, peakHeapUsedMb: peakHeap / 1048576, sampleEveryMs },
  };
}

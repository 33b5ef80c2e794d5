/**
 * The decision core on its own: the snapshot, ledger STATE, specs and
 * renewals of N synthetic roles built in memory (the same mix as the emulator
 * fixture), then the pure `decide`. CPU and memory only, no I/O. Run in a
 * child process started with --expose-gc so the heap figures are its own.
 */
import {
  grantTagKey,
  LedgerRoleState,
  STATE_PARTITION,
  MANAGED_BY_VALUE,
  RenewalRecord,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
  BASELINE_POLICY_NAME,
} from '../lib/contract';
import { decide, renewalKeysNeeded } from '../lib/sweeper/decide';
import { AccountSnapshot, GovernedRole, RolePolicy } from '../lib/sweeper/snapshot';
import { SpecLookup } from '../lib/sweeper/specs';
import { DEFAULT_DRIFT_PERIOD_SECONDS, DEFAULT_WARNING_WINDOW_SECONDS, formatExpiry } from '../lib/contract';
import { AccountShape, fixtureRole, grantMemoriesOf, grantTagValue, specOf } from './governed-account';

export interface DecisionInputs {
  readonly snapshot: AccountSnapshot;
  readonly ledger: Map<string, LedgerRoleState>;
  readonly specs: Map<string, SpecLookup>;
  readonly renewals: Map<string, RenewalRecord[]>;
}

/** The inputs a sweep of the fixture account would read, built in memory. */
export function buildDecisionInputs(shape: AccountShape): DecisionInputs {
  const roles: GovernedRole[] = [];
  const ledger = new Map<string, LedgerRoleState>();
  const specs = new Map<string, SpecLookup>();
  const renewals = new Map<string, RenewalRecord[]>();
  const seenAt = formatExpiry(new Date(shape.now.getTime() - 30 * 24 * 3600 * 1000));
  for (let i = 0; i < shape.roles; i++) {
    const r = fixtureRole(shape, i);
    const tags: Record<string, string> = { [TAG_MANAGED_BY]: MANAGED_BY_VALUE, [TAG_AGENT]: r.agentId, [TAG_OWNER]: 'owner@example.com' };
    for (const g of r.grants) tags[grantTagKey(g.name)] = grantTagValue(g);
    const policies: RolePolicy[] = [
      { kind: 'inline' as const, name: BASELINE_POLICY_NAME, document: JSON.stringify(r.baseline) },
      ...r.grants.map(g => ({ kind: 'inline' as const, name: g.name, document: JSON.stringify(g.document) })),
      ...(r.drift ? [{ kind: 'inline' as const, name: r.drift.name, document: JSON.stringify(r.drift.document) }] : []),
    ].sort((a, b) => a.name.localeCompare(b.name));
    roles.push({
      roleName: r.roleName,
      arn: `arn:aws:iam::123456789012:role/${r.roleName}`,
      agentId: r.agentId,
      owner: 'owner@example.com',
      tags,
      policies,
    });
    // The chain head (seq, hash) is the ledger's business, not decide's: a fixed stand-in saves hashing records.
    ledger.set(r.roleName, {
      pk: STATE_PARTITION,
      sk: r.roleName,
      roleName: r.roleName,
      seq: r.grants.length,
      hash: 'f'.repeat(64),
      grants: grantMemoriesOf(r, seenAt),
      updatedAt: seenAt,
    });
    specs.set(r.agentId, { spec: specOf(r) });
    if (r.renewal) renewals.set(r.renewal.pk, [r.renewal]);
  }
  return { snapshot: { roles }, ledger, specs, renewals };
}

export interface DecisionCoreResult {
  readonly roles: number;
  readonly grantsPerRole: number;
  readonly buildMs: number;
  /** renewalKeysNeeded + decide: the CPU a sweep spends between reading and applying. */
  readonly decideMs: number;
  readonly steps: number;
  /** Heap after GC with the inputs built. */
  readonly inputsHeapMb: number;
  /** Highest heap seen: after decide, before GC (inputs + plan + garbage). */
  readonly peakHeapMb: number;
  /** Heap after GC holding inputs and plan. */
  readonly retainedHeapMb: number;
  readonly peakRssMb: number;
}

const mb = (n: number) => n / 1048576;

export function runDecisionCore(roles: number, grantsPerRole: number): DecisionCoreResult {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
  const shape: AccountShape = { roles, grantsPerRole, now };
  let t = process.hrtime.bigint();
  const inputs = buildDecisionInputs(shape);
  const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
  gc();
  const inputsHeap = process.memoryUsage().heapUsed;
  const options = { strict: false, driftPeriodSeconds: DEFAULT_DRIFT_PERIOD_SECONDS, warningWindowSeconds: DEFAULT_WARNING_WINDOW_SECONDS };
  t = process.hrtime.bigint();
  const keys = renewalKeysNeeded(inputs.snapshot, inputs.ledger, inputs.specs, { now }, options);
  const needed = new Map(keys.filter(k => inputs.renewals.has(k)).map(k => [k, inputs.renewals.get(k)!]));
  const plan = decide(inputs.snapshot, inputs.ledger, inputs.specs, needed, { now }, options);
  const decideMs = Number(process.hrtime.bigint() - t) / 1e6;
  const peakHeap = process.memoryUsage().heapUsed;
  gc();
  const retained = process.memoryUsage().heapUsed;
  const steps = plan.roles.reduce((n, r) => n + r.steps.length, 0);
  return {
    roles,
    grantsPerRole,
    buildMs,
    decideMs,
    steps,
    inputsHeapMb: mb(inputsHeap),
    peakHeapMb: mb(Math.max(peakHeap, retained)),
    retainedHeapMb: mb(retained),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

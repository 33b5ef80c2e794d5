/**
 * A sweep: read (snapshot, ledger STATE, specs, the renewals that matter),
 * decide (pure), apply (role by role, each step recorded). The CLI and the
 * Lambda handler both call runSweep.
 */
import { randomUUID } from 'crypto';
import {
  DEFAULT_DRIFT_PERIOD_SECONDS,
  DEFAULT_WARNING_WINDOW_SECONDS,
  formatExpiry,
  IDENTITY_ENV,
  LedgerRoleState,
  parseExpiry,
  SWEEPER_ENV,
} from '../contract';
import { kmsSealer } from './ledger-evidence';
import { applyRolePlan, ApplyContext, StepOutcome } from './apply';
import { AwsClients } from './aws-clients';
import { decide, decideRole, DecideOptions, renewalKeysNeeded, RolePlan, specLookupOf, SweepPlan } from './decide';
import { mapWithConcurrency } from './bounded-concurrency';
import { errorOf, SweepError } from './errors';
import { emptyState, readLedgerState, readRoleState } from './ledger';
import { readRenewals } from './renewal';
import { readRole, readSnapshot } from './snapshot';
import { readSpecsWhenChanged } from './spec-cache';

export interface SweepConfig {
  readonly ledgerTable: string;
  /** @default the account's default event bus */
  readonly eventBusName?: string;
  /** SNS topic for owner notifications. @default none (events only) */
  readonly ownerTopicArn?: string;
  /** @default false */
  readonly strict?: boolean;
  /** @default DEFAULT_DRIFT_PERIOD_SECONDS */
  readonly driftPeriodSeconds?: number;
  /** @default DEFAULT_WARNING_WINDOW_SECONDS */
  readonly warningWindowSeconds?: number;
  /** Seconds between freeze checkpoints of a role; 0 or undefined: none (PermissionSweeper sets 30 days). @default no checkpoints */
  readonly checkpointIntervalSeconds?: number;
  /** Stop cleanly between roles after this many ms. @default no budget */
  readonly timeBudgetMs?: number;
  /** Decide and return the plan; change nothing. @default false */
  readonly dryRun?: boolean;
  /** The sweep's instant (expiry form). @default the current time */
  readonly now?: string;
  readonly runId?: string;
  /** @default 'sweeper' */
  readonly actor?: string;
  /** Only these roles. @default every governed role */
  readonly roleNames?: readonly string[];
  /** Times a role is re-read and re-decided after losing a ledger race. @default 10 */
  readonly maxConflictRetries?: number;
  /**
   * Roles applied at once. Each role's steps stay in order, one after another;
   * several roles overlap so that the ledger, event and renewal round trips of
   * one wait alongside the IAM calls of another, and IAM's rate is what bounds
   * the sweep. @default DEFAULT_ROLE_CONCURRENCY (4)
   */
  readonly roleConcurrency?: number;
  /** KMS key that signs every record this sweep appends (and anchors each role's head in a tag). @default unsigned */
  readonly signingKeyId?: string;
}

/** Roles a sweep applies at once: enough to keep IAM's write rate busy, few enough to stay clear of its throttling. */
export const DEFAULT_ROLE_CONCURRENCY = 4;

export interface SweepResult {
  readonly runId: string;
  readonly at: string;
  readonly dryRun: boolean;
  readonly plan: SweepPlan;
  readonly outcomes: readonly StepOutcome[];
  readonly errors: readonly SweepError[];
  /** Roles not swept because the time budget ran out (the next sweep does them). */
  readonly leftRoles: readonly string[];
  /** True when every step succeeded and nothing was left. */
  readonly ok: boolean;
}

export function decideOptionsOf(config: SweepConfig): DecideOptions {
  return {
    strict: config.strict ?? false,
    driftPeriodSeconds: config.driftPeriodSeconds ?? DEFAULT_DRIFT_PERIOD_SECONDS,
    warningWindowSeconds: config.warningWindowSeconds ?? DEFAULT_WARNING_WINDOW_SECONDS,
    ...(config.checkpointIntervalSeconds ? { checkpointIntervalSeconds: config.checkpointIntervalSeconds } : {}),
  };
}

/** Reads the sweeper's configuration from SWEEPER_ENV names; throws naming the variable that is wrong. */
export function sweepConfigFromEnv(env: NodeJS.ProcessEnv): SweepConfig {
  const ledgerTable = env[SWEEPER_ENV.ledgerTable];
  if (!ledgerTable)
    throw Object.assign(new Error(`${SWEEPER_ENV.ledgerTable} is not set: name the ledger table`), { code: 'NO_LEDGER_TABLE' });
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw Object.assign(new Error(`${name}="${v}" is not a non-negative number`), { code: 'BAD_CONFIG' });
    return n;
  };
  return {
    ledgerTable,
    eventBusName: env[SWEEPER_ENV.eventBusName] || undefined,
    ownerTopicArn: env[SWEEPER_ENV.ownerTopicArn] || undefined,
    strict: env[SWEEPER_ENV.strict] === 'true',
    driftPeriodSeconds: num(SWEEPER_ENV.driftPeriodSeconds),
    warningWindowSeconds: num(SWEEPER_ENV.warningWindowSeconds),
    timeBudgetMs: num(SWEEPER_ENV.timeBudgetMs),
    checkpointIntervalSeconds: num(SWEEPER_ENV.checkpointIntervalSeconds),
    signingKeyId: env[IDENTITY_ENV.signingKeyId] || undefined,
  };
}

export async function runSweep(clients: AwsClients, config: SweepConfig): Promise<SweepResult> {
  const started = Date.now();
  const runId = config.runId ?? randomUUID();
  const now = config.now ? parseExpiry(config.now, 'sweep instant') : new Date(Math.floor(Date.now() / 1000) * 1000);
  const at = formatExpiry(now);
  const options = decideOptionsOf(config);
  const clock = { now };

  const [fullSnapshot, ledgerState] = await Promise.all([readSnapshot(clients.iam), readLedgerState(clients.ddb, config.ledgerTable)]);
  // Specs change only on deploy: read from SSM only when a role's spec digest is not the cached one.
  const { specs } = await readSpecsWhenChanged(clients.ssm, clients.ddb, config.ledgerTable, fullSnapshot, now);
  const snapshot = config.roleNames ? { roles: fullSnapshot.roles.filter(r => config.roleNames!.includes(r.roleName)) } : fullSnapshot;
  const renewals = await readRenewals(clients.ddb, config.ledgerTable, renewalKeysNeeded(snapshot, ledgerState, specs, clock, options));
  const plan = decide(snapshot, ledgerState, specs, renewals, clock, options);
  if (config.dryRun) {
    return { runId, at, dryRun: true, plan, outcomes: [], errors: [], leftRoles: [], ok: true };
  }

  const concurrency = config.roleConcurrency ?? DEFAULT_ROLE_CONCURRENCY;
  const ctx: ApplyContext = {
    clients,
    ledgerTable: config.ledgerTable,
    runId,
    actor: config.actor ?? 'sweeper',
    at,
    eventBusName: config.eventBusName,
    ownerTopicArn: config.ownerTopicArn,
    // Records are a small share of a sweep's round trips, so appending them one at a time costs little while
    // IAM's rate bounds the sweep; and the local emulator's DynamoDB fails (HTTP 500) under concurrent transactions.
    ...(concurrency > 1 ? { ledgerTurn: oneAtATime() } : {}),
    ...(config.signingKeyId ? { sealer: kmsSealer(clients, config.signingKeyId) } : {}),
  };
  const errors: SweepError[] = [];
  const rolePlans = plan.roles.filter(r => r.steps.length > 0);
  // The first role the budget refuses: it and every role after it are left (roles start in plan order).
  let leftFrom = rolePlans.length;
  const perRole = await mapWithConcurrency(rolePlans, concurrency, async (rolePlan, i) => {
    if (i >= leftFrom) return [];
    // No role starts after the budget; those already started finish. The first role always runs:
    // a budget spent on reading alone must not stop every run from making progress.
    if (i > 0 && config.timeBudgetMs !== undefined && Date.now() - started > config.timeBudgetMs) {
      leftFrom = Math.min(leftFrom, i);
      return [];
    }
    return sweepRole(rolePlan, ledgerState.get(rolePlan.roleName) ?? emptyState(rolePlan.roleName));
  });
  const leftRoles = rolePlans.slice(leftFrom).map(r => r.roleName);
  // In plan order (by role name), whichever role finished first.
  const outcomes = perRole.flat();
  for (const o of outcomes)
    if (!o.ok) errors.push({ code: o.errorCode ?? 'ERROR', message: o.message, roleName: o.roleName, grant: o.grant });
  return { runId, at, dryRun: false, plan, outcomes, errors, leftRoles, ok: errors.length === 0 && leftRoles.length === 0 };

  /** Applies one role's plan (re-deciding it after a lost ledger race); never throws: a failure is an outcome. */
  async function sweepRole(first: RolePlan, head: LedgerRoleState): Promise<StepOutcome[]> {
    const outcomes: StepOutcome[] = [];
    let rolePlan: RolePlan | undefined = first;
    let state = head;
    const retries = config.maxConflictRetries ?? 10;
    try {
      for (let attempt = 0; rolePlan; attempt++) {
        const r = await applyRolePlan(ctx, rolePlan, state);
        outcomes.push(...r.outcomes);
        if (!r.conflict) return outcomes;
        if (attempt >= retries) {
          outcomes.push({
            roleName: first.roleName,
            decision: 'error',
            ok: false,
            errorCode: 'LEDGER_CONFLICT',
            message: `role ${first.roleName}: lost the ledger race ${attempt + 1} times; left for the next sweep`,
          });
          return outcomes;
        }
        // Another writer got there first: read this role again and decide again.
        // Full jitter, growing with each loss (capped at 2 s): concurrent sweeps of one role spread out.
        await new Promise(res => setTimeout(res, Math.random() * Math.min(2000, 150 * 2 ** attempt)));
        const [role, fresh] = await Promise.all([
          readRole(clients.iam, first.roleName),
          readRoleState(clients.ddb, config.ledgerTable, first.roleName),
        ]);
        if (!role) return outcomes;
        const roleSnapshot = { roles: [role] };
        const roleRenewals = await readRenewals(
          clients.ddb,
          config.ledgerTable,
          renewalKeysNeeded(roleSnapshot, new Map([[role.roleName, fresh]]), specs, clock, options),
        );
        rolePlan = decideRole(role, fresh, specLookupOf(role, specs), roleRenewals, now, options);
        state = fresh;
        if (rolePlan.steps.length === 0) return outcomes;
      }
    } catch (e) {
      const err = errorOf(e, 'ROLE_FAILED');
      outcomes.push({
        roleName: first.roleName,
        decision: 'error',
        ok: false,
        errorCode: err.code,
        message: `role ${first.roleName}: ${err.message}`,
      });
    }
    return outcomes;
  }
}

/** A turn-taker: each piece of work starts when the one before it has settled. */
function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = last.then(work, work);
    last = run.catch(() => undefined);
    return run;
  };
}

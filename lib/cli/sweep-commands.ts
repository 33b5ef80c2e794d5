/** ledger init, sweep, status; what a role held at an instant (history: history-command.ts). */
import {
  CheckpointFlagCode,
  CheckpointStanding,
  DEFAULT_DRIFT_PERIOD_SECONDS,
  DEFAULT_WARNING_WINDOW_SECONDS,
  DRIFT_REQUESTER,
  formatExpiry,
  GOVERNED_ROLE_PATH,
  LEDGER_TABLE_ENV,
  LedgerRecord,
  LedgerRoleState,
  parseExpiry,
  PolicyAttachment,
  policyNameOfGrantTag,
} from '../contract';
import { decide, DecideOptions, grantTagReading, isBaselinePolicy, renewalKeysNeeded, specLookupOf, SweepPlan } from '../sweeper/decide';
import { StepOutcome } from '../sweeper/apply';
import { createLedgerTable, emptyState, readLedgerState } from '../sweeper/ledger';
import { readRenewals } from '../sweeper/renewal';
import { AccountSnapshot, readSnapshot } from '../sweeper/snapshot';
import { readSpecs, SpecIndex } from '../sweeper/specs';
import { runSweep } from '../sweeper/sweep';
import { parseDuration, UsageError } from './args';
import { CommandContext } from './context';
import { formatTimeLeft, renderTable } from './render';

export async function ledgerInit(ctx: CommandContext): Promise<number> {
  const table = ctx.ledgerTable();
  let result;
  try {
    result = await createLedgerTable(ctx.clients.ddb, table);
  } catch (e) {
    if ((e as { code?: string }).code === 'BAD_TABLE_NAME') throw new UsageError((e as Error).message, 'BAD_TABLE_NAME');
    throw e;
  }
  if (ctx.json) ctx.outJson({ table, result });
  else ctx.out(result === 'created' ? `Created ledger table ${table}.` : `Ledger table ${table} already exists; nothing changed.`);
  return 0;
}

export async function sweep(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const drift = f.opt('drift-period');
  const warn = f.opt('warning-window');
  const checkpointInterval = f.opt('checkpoint-interval');
  const result = await runSweep(ctx.clients, {
    ledgerTable: ctx.ledgerTable(),
    dryRun: f.bool('dry-run'),
    strict: f.bool('strict'),
    driftPeriodSeconds: drift !== undefined ? parseDuration(drift, 'drift-period') : undefined,
    warningWindowSeconds: warn !== undefined ? parseDuration(warn, 'warning-window') : undefined,
    checkpointIntervalSeconds: checkpointInterval !== undefined ? parseDuration(checkpointInterval, 'checkpoint-interval') : undefined,
    eventBusName: f.opt('event-bus'),
    ownerTopicArn: f.opt('owner-topic-arn'),
    now: formatExpiry(ctx.now()),
    actor: 'sweeper',
    // Records the CLI sweep appends are signed like the Lambda's, so `history --verify` holds for them too.
    signingKeyId: ctx.signingKeyId(),
  });
  if (ctx.json) {
    ctx.outJson(result);
  } else if (result.dryRun) {
    const rows = result.plan.roles.flatMap(r =>
      r.steps.map(s => [
        r.roleName,
        s.grant,
        s.record?.decision ?? 'converge',
        s.actions.map(a => a.type).join(',') || '-',
        s.record?.message ?? '',
      ]),
    );
    ctx.out(
      `Dry run at ${result.at}: nothing was changed.\n` +
        (rows.length ? renderTable(['ROLE', 'GRANT', 'WOULD RECORD', 'IAM CHANGES', 'WHY'], rows) : 'Nothing to do.\n'),
    );
  } else {
    const shared = sharedEventProblem(result.outcomes);
    // One problem on every row (an event bus that refuses every event) is said once, under the table.
    const detail = (o: StepOutcome) => (shared && o.eventProblem === shared ? o.message.slice(0, -` (${shared})`.length) : o.message);
    const rows = result.outcomes.map(o => [o.roleName, o.grant, o.decision, o.ok ? 'done' : 'FAILED', detail(o)]);
    ctx.out(
      `Sweep ${result.runId} at ${result.at}.\n` +
        (rows.length ? renderTable(['ROLE', 'GRANT', 'DECISION', 'RESULT', 'DETAIL'], rows) : 'Nothing changed.\n') +
        (shared
          ? `Every one of the ${result.outcomes.filter(o => o.eventProblem).length} decisions above was recorded in the ledger, ` +
            `but: ${shared}. ` +
            'Check the event bus (--event-bus) and the owner topic (--owner-topic-arn) in this region.\n'
          : '') +
        (result.leftRoles.length ? `Time budget ran out; left for the next sweep: ${result.leftRoles.join(', ')}\n` : ''),
    );
  }
  return result.ok ? 0 : 1;
}

/** The event problem every outcome that recorded a decision shares, when there are two or more of them. */
export function sharedEventProblem(outcomes: readonly StepOutcome[]): string | undefined {
  const recorded = outcomes.filter(o => o.seq !== undefined);
  const problems = new Set(recorded.map(o => o.eventProblem));
  const [only] = [...problems];
  return recorded.length >= 2 && problems.size === 1 ? only : undefined;
}

export interface GrantStatus {
  readonly roleName: string;
  readonly agentId?: string;
  /** The grant (policy name); absent for a row about the role itself (foreign marker, governance tag tampering). */
  readonly grant?: string;
  readonly kind?: 'inline' | 'managed';
  readonly expiresAt?: string;
  readonly timeLeft?: string;
  readonly requestedBy?: string;
  readonly ticket?: string;
  readonly state: 'ok' | 'warning' | 'expired' | 'drift' | 'malformed' | 'orphan-tag' | 'tampering' | 'foreign-marker';
  /** Why it is in that state, and what the next sweep does about it (the sweep's own reading and plan). */
  readonly reason: string;
}

/**
 * Every grant's state as the sweep reads it: the same tag parser, ledger
 * memory and approved spec, and the plan a sweep at `now` would make (nothing
 * is applied). Read-only: it needs the ledger only to read it.
 */
export async function status(ctx: CommandContext): Promise<number> {
  const now = ctx.now();
  const f = ctx.flags;
  const roleFilter = f.opt('role') !== undefined ? await ctx.role() : undefined;
  const duration = (flag: string, fallback: number) => (f.opt(flag) !== undefined ? parseDuration(f.opt(flag)!, flag) : fallback);
  const options: DecideOptions = {
    strict: false,
    driftPeriodSeconds: duration('drift-period', DEFAULT_DRIFT_PERIOD_SECONDS),
    warningWindowSeconds: duration('warning-window', DEFAULT_WARNING_WINDOW_SECONDS),
  };
  const table = ctx.flags.opt('ledger-table') ?? ctx.io.env[LEDGER_TABLE_ENV];
  const [full, specs, ledgerState] = await Promise.all([
    readSnapshot(ctx.clients.iam),
    readSpecs(ctx.clients.ssm),
    table ? readLedgerState(ctx.clients.ddb, table) : Promise.resolve(new Map<string, LedgerRoleState>()),
  ]);
  const snapshot = roleFilter ? { roles: full.roles.filter(r => r.roleName === roleFilter), foreignMarkers: [] } : full;
  const clock = { now };
  const renewals = table
    ? await readRenewals(ctx.clients.ddb, table, renewalKeysNeeded(snapshot, ledgerState, specs, clock, options))
    : new Map();
  const plan = decide(snapshot, ledgerState, specs, renewals, clock, options);
  const out = grantStatuses(snapshot, ledgerState, specs, plan, now, options);
  if (ctx.json) ctx.outJson({ at: formatExpiry(now), ...(table ? {} : { ledger: 'not read: no ledger table named' }), grants: out });
  else {
    const rows = out.map(g => [g.roleName, g.grant, g.kind, g.expiresAt, g.timeLeft, g.state, g.requestedBy, g.ticket, g.reason]);
    ctx.out(
      rows.length
        ? renderTable(['ROLE', 'GRANT', 'KIND', 'EXPIRES', 'LEFT', 'STATE', 'REQUESTED BY', 'TICKET', 'WHY'], rows)
        : 'No grants on governed roles.',
    );
    if (!table) {
      ctx.out(
        `The ledger was not read (name it with --ledger-table or ${LEDGER_TABLE_ENV}): recorded expiries and renewals are not shown.`,
      );
    }
  }
  return 0;
}

/** The status rows of a snapshot, from the sweep's tag reading and the plan `decide` made for it. Pure. */
export function grantStatuses(
  snapshot: AccountSnapshot,
  ledgerState: ReadonlyMap<string, LedgerRoleState>,
  specs: SpecIndex,
  plan: SweepPlan,
  now: Date,
  options: DecideOptions,
): GrantStatus[] {
  const out: GrantStatus[] = [];
  const plans = new Map(plan.roles.map(r => [r.roleName, r]));
  const driftUntil = formatExpiry(new Date(now.getTime() + options.driftPeriodSeconds * 1000));
  for (const role of snapshot.roles) {
    const lookup = specLookupOf(role, specs);
    const state = ledgerState.get(role.roleName) ?? emptyState(role.roleName);
    const steps = plans.get(role.roleName)?.steps ?? [];
    const agentId = lookup.spec?.agentId ?? role.agentId;
    const planned = (grant: string | undefined) =>
      steps.filter(st => st.grant === grant && st.record).map(st => `${st.record!.decision}: ${st.record!.message}`);
    for (const message of planned(undefined)) {
      if (message.startsWith('tampering:') || message.startsWith('error:')) {
        out.push({ roleName: role.roleName, agentId, state: 'tampering', reason: `next sweep records ${message}` });
      }
    }
    const names = new Set(role.policies.map(p => p.name));
    for (const p of role.policies) {
      if (isBaselinePolicy(lookup, p)) continue;
      const base = { roleName: role.roleName, agentId, grant: p.name, kind: p.kind };
      const reading = grantTagReading(role, p.name, state, lookup, now);
      const next = planned(p.name);
      const then = next.length ? `; next sweep: ${next.join('; ')}` : '';
      if (reading.malformed !== undefined) {
        const reason = `expiry tag "${reading.tagValue}" is no expiry (${reading.malformed}): it is drift, decaying at ${driftUntil} at the latest`;
        out.push({ ...base, state: 'malformed', reason: reason + then });
        continue;
      }
      const expiresAt = reading.recorded ?? reading.parsedTag?.expiresAt;
      if (expiresAt === undefined) {
        out.push({
          ...base,
          state: 'drift',
          reason: 'neither baseline nor a tagged grant' + (then || `; the next sweep tags it to decay at ${driftUntil}`),
        });
        continue;
      }
      const left = parseExpiry(expiresAt).getTime() - now.getTime();
      const requestedBy = reading.parsedTag?.requestedBy ?? reading.memory?.requestedBy;
      const isDrift = requestedBy === DRIFT_REQUESTER || reading.memory?.origin === 'drift';
      const standing: GrantStatus['state'] = next.some(m => m.startsWith('tampering:'))
        ? 'tampering'
        : left <= 0
          ? 'expired'
          : isDrift
            ? 'drift'
            : left <= options.warningWindowSeconds * 1000
              ? 'warning'
              : 'ok';
      const why =
        standing === 'expired' ? `expired at ${expiresAt}` : isDrift ? `hand-added; decays at ${expiresAt}` : `expires at ${expiresAt}`;
      const source =
        reading.recorded !== undefined && reading.parsedTag?.expiresAt !== reading.recorded
          ? ` (recorded expiry; the tag says ${reading.parsedTag?.expiresAt ?? 'nothing'})`
          : '';
      out.push({
        ...base,
        expiresAt,
        timeLeft: formatTimeLeft(left),
        requestedBy,
        ticket: reading.parsedTag?.ticket ?? reading.memory?.ticket,
        state: standing,
        reason: `${why}${source}${then}`,
      });
    }
    for (const key of Object.keys(role.tags)) {
      const g = policyNameOfGrantTag(key);
      if (g && !names.has(g)) {
        const reason = `its policy is gone; the next sweep removes the tag (${planned(g).join('; ') || 'already recorded'})`;
        out.push({ roleName: role.roleName, agentId, grant: g, state: 'orphan-tag', reason });
      }
    }
  }
  for (const marked of snapshot.foreignMarkers ?? []) {
    out.push({
      roleName: marked.roleName,
      state: 'foreign-marker',
      reason:
        `carries governance tags but its path ${marked.path} is not ${GOVERNED_ROLE_PATH}: ` + 'not governed, never changed by the sweeper',
    });
  }
  return out;
}

/** One grant (or unapproved policy) a role held at an instant. */
export interface HeldGrant {
  readonly grant: string;
  readonly expiresAt?: string;
  readonly policy?: PolicyAttachment;
  readonly since: string;
  /** `checkpoint`: as the checkpoint recorded it; `records`: from decision records (after the checkpoint, if any). */
  readonly source: 'checkpoint' | 'records';
  /** How the checkpoint judged it (grant, drift or unapproved), when it came from one. */
  readonly standing?: CheckpointStanding;
  /** Checkpoint flag codes of the policy (not in the approved spec). */
  readonly flags?: CheckpointFlagCode[];
}

/** What a role held at an instant: its latest checkpoint at or before it, plus the decision records after that. */
export interface PointInTime {
  /** The checkpoint the answer starts from; absent: replayed from the first record. */
  readonly checkpoint?: { readonly seq: number; readonly at: string; readonly flagged: number };
  /** Baseline policies at the checkpoint (records never mention baseline, so only a checkpoint knows them). */
  readonly baseline: {
    readonly name: string;
    readonly kind: 'inline' | 'managed';
    readonly documentHash: string;
    readonly flags?: CheckpointFlagCode[];
  }[];
  readonly held: HeldGrant[];
}

/**
 * What a role held at `at`, from its records (chain order). Starts from the
 * latest `checkpoint` record at or before `at` (it knows every policy,
 * including ones no decision ever mentioned), then applies the decision
 * records after it; without a checkpoint, replays every record. Pure.
 */
export function pointInTime(records: readonly LedgerRecord[], at: string): PointInTime {
  let start = -1;
  for (let i = 0; i < records.length; i++)
    if (records[i].decision === 'checkpoint' && records[i].checkpoint && records[i].at <= at) start = i;
  const cp = start >= 0 ? records[start] : undefined;
  // Entries start from the checkpoint; their `since` comes from replaying the records before it.
  const held = new Map<string, HeldGrant>();
  const before = new Map<string, HeldGrant>();
  if (cp) replay(records.slice(0, start), at, before);
  const baseline: PointInTime['baseline'][number][] = [];
  if (cp?.checkpoint) {
    const flagsOf = new Map<string, CheckpointFlagCode[]>();
    for (const f of cp.checkpoint.flags) flagsOf.set(f.policy, [...(flagsOf.get(f.policy) ?? []), f.code]);
    for (const p of cp.checkpoint.policies) {
      const flags = flagsOf.get(p.name);
      if (p.standing === 'baseline') {
        baseline.push({ name: p.name, kind: p.kind, documentHash: p.documentHash, ...(flags ? { flags } : {}) });
        continue;
      }
      held.set(p.name, {
        grant: p.name,
        ...(p.expiresAt ? { expiresAt: p.expiresAt } : {}),
        policy: {
          kind: p.kind,
          name: p.name,
          ...(p.arn ? { arn: p.arn } : {}),
          ...(p.document !== undefined ? { document: p.document } : {}),
        },
        since: before.get(p.name)?.since ?? cp.at,
        source: 'checkpoint',
        standing: p.standing,
        ...(flags ? { flags } : {}),
      });
    }
  }
  replay(records.slice(start + 1), at, held);
  return {
    ...(cp?.checkpoint ? { checkpoint: { seq: cp.seq, at: cp.at, flagged: cp.checkpoint.flags.length } } : {}),
    baseline: baseline.sort((a, b) => a.name.localeCompare(b.name)),
    held: [...held.values()].sort((a, b) => a.grant.localeCompare(b.grant)),
  };
}

/** Applies decision records at or before `at` to `held`. */
function replay(records: readonly LedgerRecord[], at: string, held: Map<string, HeldGrant>): void {
  for (const r of records) {
    if (r.at > at || !r.grant) continue;
    if (HOLDING.has(r.decision)) {
      const prev = held.get(r.grant);
      held.set(r.grant, {
        grant: r.grant,
        expiresAt: r.expiresAt ?? prev?.expiresAt,
        policy: r.policy ?? prev?.policy,
        since: prev?.since ?? r.at,
        source: 'records',
        ...(prev?.standing ? { standing: r.decision === 'drift' ? 'drift' : prev.standing } : {}),
        ...(prev?.flags ? { flags: prev.flags } : {}),
      });
    } else if (r.decision === 'revoked' || r.decision === 'cleaned') {
      held.delete(r.grant);
    }
  }
}

// A grant first seen inside its warning window is first recorded as warned: it was on the role too.
const HOLDING = new Set<string>(['requested', 'kept', 'warned', 'drift', 'renewed', 'restored', 'tampering']);

/** What a role held at an instant (see pointInTime). Pure. */
export function heldAt(records: readonly LedgerRecord[], at: string): HeldGrant[] {
  return pointInTime(records, at).held;
}

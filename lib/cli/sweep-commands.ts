/** ledger init, sweep, status; what a role held at an instant (history: history-command.ts). */
import {
  CheckpointFlagCode, CheckpointStanding, DEFAULT_WARNING_WINDOW_SECONDS, formatExpiry, LedgerRecord, parseExpiry, parseGrantTag, PolicyAttachment, policyNameOfGrantTag,
} from '../private/contract';
import { specLookupOf } from '../sweeper/decide';
import { createLedgerTable } from '../sweeper/ledger';
import { readSnapshot } from '../sweeper/snapshot';
import { readSpecs } from '../sweeper/specs';
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
  });
  if (ctx.json) {
    ctx.outJson(result);
  } else if (result.dryRun) {
    const rows = result.plan.roles.flatMap(r => r.steps.map(s => [r.roleName, s.grant, s.record?.decision ?? 'converge', s.actions.map(a => a.type).join(',') || '-', s.record?.message ?? '']));
    ctx.out(`Dry run at ${result.at}: nothing was changed.\n` + (rows.length ? renderTable(['ROLE', 'GRANT', 'WOULD RECORD', 'IAM CHANGES', 'WHY'], rows) : 'Nothing to do.\n'));
  } else {
    const rows = result.outcomes.map(o => [o.roleName, o.grant, o.decision, o.ok ? 'done' : 'FAILED', o.message]);
    ctx.out(`Sweep ${result.runId} at ${result.at}.\n` + (rows.length ? renderTable(['ROLE', 'GRANT', 'DECISION', 'RESULT', 'DETAIL'], rows) : 'Nothing changed.\n')
      + (result.leftRoles.length ? `Time budget ran out; left for the next sweep: ${result.leftRoles.join(', ')}\n` : ''));
  }
  return result.ok ? 0 : 1;
}

export interface GrantStatus {
  readonly roleName: string;
  readonly agentId?: string;
  readonly grant: string;
  readonly kind?: 'inline' | 'managed';
  readonly expiresAt?: string;
  readonly timeLeft?: string;
  readonly requestedBy?: string;
  readonly ticket?: string;
  readonly state: 'ok' | 'warning' | 'expired' | 'drift' | 'malformed' | 'orphan-tag';
}

export async function status(ctx: CommandContext): Promise<number> {
  const now = ctx.now();
  const roleFilter = ctx.flags.opt('role') !== undefined ? await ctx.role() : undefined;
  const warnSeconds = ctx.flags.opt('warning-window') !== undefined ? parseDuration(ctx.flags.opt('warning-window')!, 'warning-window') : DEFAULT_WARNING_WINDOW_SECONDS;
  const [snapshot, specs] = await Promise.all([readSnapshot(ctx.clients.iam), readSpecs(ctx.clients.ssm)]);
  const out: GrantStatus[] = [];
  for (const role of snapshot.roles) {
    if (roleFilter && role.roleName !== roleFilter) continue;
    const spec = specLookupOf(role, specs).spec;
    const names = new Set(role.policies.map(p => p.name));
    for (const p of role.policies) {
      if (spec?.baseline.some(b => b.kind === p.kind && b.name === p.name)) continue;
      const tag = role.tags[`governance:grant:${p.name}`];
      const base = { roleName: role.roleName, agentId: role.agentId, grant: p.name, kind: p.kind };
      if (tag === undefined) { out.push({ ...base, state: 'drift' }); continue; }
      let parsed;
      try { parsed = parseGrantTag(tag); } catch { out.push({ ...base, state: 'malformed' }); continue; }
      const left = parseExpiry(parsed.expiresAt).getTime() - now.getTime();
      const state = parsed.requestedBy === 'permission-decay/drift' ? 'drift' : left <= 0 ? 'expired' : left <= warnSeconds * 1000 ? 'warning' : 'ok';
      out.push({ ...base, expiresAt: parsed.expiresAt, timeLeft: formatTimeLeft(left), requestedBy: parsed.requestedBy, ticket: parsed.ticket, state });
    }
    for (const key of Object.keys(role.tags)) {
      const g = policyNameOfGrantTag(key);
      if (g && !names.has(g)) out.push({ roleName: role.roleName, agentId: role.agentId, grant: g, state: 'orphan-tag' });
    }
  }
  if (ctx.json) ctx.outJson({ at: formatExpiry(now), grants: out });
  else ctx.out(out.length ? renderTable(['ROLE', 'GRANT', 'KIND', 'EXPIRES', 'LEFT', 'STATE', 'REQUESTED BY', 'TICKET'],
    out.map(g => [g.roleName, g.grant, g.kind, g.expiresAt, g.timeLeft, g.state, g.requestedBy, g.ticket])) : 'No grants on governed roles.');
  return 0;
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
  readonly baseline: { readonly name: string; readonly kind: 'inline' | 'managed'; readonly documentHash: string; readonly flags?: CheckpointFlagCode[] }[];
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
  for (let i = 0; i < records.length; i++) if (records[i].decision === 'checkpoint' && records[i].checkpoint && records[i].at <= at) start = i;
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
        grant: p.name, ...(p.expiresAt ? { expiresAt: p.expiresAt } : {}),
        policy: { kind: p.kind, name: p.name, ...(p.arn ? { arn: p.arn } : {}), ...(p.document !== undefined ? { document: p.document } : {}) },
        since: before.get(p.name)?.since ?? cp.at, source: 'checkpoint', standing: p.standing, ...(flags ? { flags } : {}),
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
        grant: r.grant, expiresAt: r.expiresAt ?? prev?.expiresAt, policy: r.policy ?? prev?.policy, since: prev?.since ?? r.at, source: 'records',
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

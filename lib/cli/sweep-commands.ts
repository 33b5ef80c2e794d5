/** ledger init, sweep, status, history. */
import {
  DEFAULT_WARNING_WINDOW_SECONDS, formatExpiry, LedgerRecord, parseExpiry, parseGrantTag, PolicyAttachment, policyNameOfGrantTag,
} from '../private/contract';
import { specLookupOf } from '../sweeper/decide';
import { createLedgerTable, readRecords, readRoleState, verifyChain } from '../sweeper/ledger';
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
  const result = await runSweep(ctx.clients, {
    ledgerTable: ctx.ledgerTable(),
    dryRun: f.bool('dry-run'),
    strict: f.bool('strict'),
    driftPeriodSeconds: drift !== undefined ? parseDuration(drift, 'drift-period') : undefined,
    warningWindowSeconds: warn !== undefined ? parseDuration(warn, 'warning-window') : undefined,
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

/** What a role held at an instant, reconstructed from its records. Pure. */
export function heldAt(records: readonly LedgerRecord[], at: string): { grant: string; expiresAt?: string; policy?: PolicyAttachment; since: string }[] {
  const held = new Map<string, { grant: string; expiresAt?: string; policy?: PolicyAttachment; since: string }>();
  for (const r of records) {
    if (r.at > at || !r.grant) continue;
    switch (r.decision) {
      // A grant first seen inside its warning window is first recorded as warned: it was on the role too.
      case 'requested': case 'kept': case 'warned': case 'drift': case 'renewed': case 'restored': case 'tampering': {
        const prev = held.get(r.grant);
        held.set(r.grant, { grant: r.grant, expiresAt: r.expiresAt ?? prev?.expiresAt, policy: r.policy ?? prev?.policy, since: prev?.since ?? r.at });
        break;
      }
      case 'revoked': case 'cleaned':
        held.delete(r.grant);
        break;
      default:
        break;
    }
  }
  return [...held.values()].sort((a, b) => a.grant.localeCompare(b.grant));
}

export async function history(ctx: CommandContext): Promise<number> {
  const roleName = await ctx.role();
  const table = ctx.ledgerTable();
  const [records, state] = await Promise.all([readRecords(ctx.clients.ddb, table, roleName), readRoleState(ctx.clients.ddb, table, roleName)]);
  const atFlag = ctx.flags.opt('at') !== undefined ? ctx.instant('at', 'instant') : undefined;
  const held = atFlag ? heldAt(records, atFlag) : undefined;
  const problems = ctx.flags.bool('verify') ? verifyChain(records, state) : undefined;
  if (ctx.json) {
    ctx.outJson({ roleName, records, ...(held ? { at: atFlag, held } : {}), ...(problems ? { verified: problems.length === 0, problems } : {}) });
  } else {
    ctx.out(records.length ? renderTable(['SEQ', 'AT', 'DECISION', 'GRANT', 'EXPIRES', 'ACTOR', 'MESSAGE'],
      records.map(r => [r.seq, r.at, r.decision, r.grant, r.expiresAt, r.actor, r.message])) : `No records for ${roleName}.`);
    if (held) ctx.out(`\nAt ${atFlag}, ${roleName} held:\n` + (held.length ? renderTable(['GRANT', 'KIND', 'EXPIRES', 'SINCE'], held.map(h => [h.grant, h.policy?.kind, h.expiresAt, h.since])) : 'no grants\n'));
    if (problems) ctx.out(problems.length ? `\nChain verification FAILED:\n` + problems.map(p => `  record ${p.seq}: ${p.code}: ${p.message}`).join('\n') : `\nChain verified: ${records.length} records, no gaps, no alterations.`);
  }
  return problems && problems.length > 0 ? 1 : 0;
}

/**
 * activity: what a governed role used (from the activity recorder's daily
 * aggregates), each action with what allowed it at its first and last use in
 * the day: a baseline policy of the approved spec, or the grants the ledger
 * says the role held at that instant (replayed with pointInTime).
 *
 * How an action is matched to a grant: each candidate document (the baseline
 * documents of the spec; a held grant's document as the ledger recorded it,
 * at or after the instant, else as the role carries it now) is evaluated for the action on the
 * resource at the instant (statement-match: Action/NotAction,
 * Resource/NotResource, wildcards, and the aws:CurrentTime date bounds grant
 * expiries are written with). A document that could allow it only under a
 * condition the ledger cannot judge is listed as conditional, not as allowing.
 */
import { LedgerRecord, PolicyDocumentJson } from '../contract';
import { ActivityItem } from '../contract/activity';
import { readActivity } from '../sweeper/activity/reader';
import { documentVerdict } from '../sweeper/activity/statement-match';
import { readRecords } from '../sweeper/ledger';
import { GovernedRole, readRole } from '../sweeper/snapshot';
import { readSpecs } from '../sweeper/specs';
import { UsageError } from './args';
import { CommandContext } from './context';
import { renderTable } from './render';
import { pointInTime } from './sweep-commands';

/** The default window when --since is not given: six months before --until. */
const DEFAULT_WINDOW_DAYS = 183;

/** What allowed a call at one instant. */
export interface AllowedBy {
  readonly at: string;
  /** Baseline policies of the approved spec that allow it. */
  readonly baseline: string[];
  /** Grants held at the instant that allow it, with the approval the ledger holds for each. */
  readonly grants: { grant: string; expiresAt?: string; requestedBy?: string; ticket?: string }[];
  /** Policies that allow it only under a condition the ledger cannot judge. */
  readonly conditional: string[];
  /** A held policy explicitly denies it. */
  readonly denied: string[];
}

export interface ActivityLine {
  readonly day: string;
  readonly action: string;
  readonly resource: string;
  readonly access: ActivityItem['access'];
  readonly count: number;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly attributions: ActivityItem['attributions'];
  readonly first: AllowedBy;
  readonly last: AllowedBy;
}

function parseDoc(text: string | undefined): PolicyDocumentJson | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as PolicyDocumentJson;
  } catch {
    return undefined;
  }
}

/** The approval the ledger holds for a grant at an instant: its latest record at or before it that names one. */
function approvalOf(records: readonly LedgerRecord[], grant: string, at: string) {
  let found: LedgerRecord | undefined;
  for (const r of records) if (r.grant === grant && r.at <= at && (r.requestedBy || r.ticket)) found = r;
  return found ? { requestedBy: found.requestedBy, ticket: found.ticket } : {};
}

/**
 * The grant's document from the first record after `since` that holds one: the
 * ledger writes a grant's document when it revokes it (and on drift and
 * checkpoints), not when it first keeps it, so a grant used before its
 * revocation is judged by what its revocation recorded.
 */
function laterDocument(records: readonly LedgerRecord[], grant: string, since: string): string | undefined {
  return records.find(r => r.grant === grant && r.at >= since && r.policy?.document !== undefined)?.policy?.document;
}

/** What allowed `action` on `resource` at `at`. Pure: baseline documents, the ledger's records and the role as it is now. */
export function allowedBy(
  at: string,
  action: string,
  resource: string,
  baseline: readonly { name: string; document?: PolicyDocumentJson }[],
  records: readonly LedgerRecord[],
  current: GovernedRole | undefined,
): AllowedBy {
  const out: AllowedBy = { at, baseline: [], grants: [], conditional: [], denied: [] };
  const judge = (name: string, doc: PolicyDocumentJson | undefined) => (doc ? documentVerdict(doc, action, resource, at) : 'unknown');
  for (const b of baseline) {
    const v = judge(b.name, b.document);
    if (v === 'allowed') out.baseline.push(b.name);
    else if (v === 'conditional' || v === 'unknown') out.conditional.push(b.name);
    else if (v === 'denied') out.denied.push(b.name);
  }
  for (const held of pointInTime(records, at).held) {
    const doc =
      parseDoc(held.policy?.document) ??
      parseDoc(laterDocument(records, held.grant, held.since)) ??
      parseDoc(current?.policies.find(p => p.name === held.grant)?.document);
    const v = judge(held.grant, doc);
    if (v === 'allowed') out.grants.push({ grant: held.grant, expiresAt: held.expiresAt, ...approvalOf(records, held.grant, at) });
    else if (v === 'conditional' || v === 'unknown') out.conditional.push(held.grant);
    else if (v === 'denied') out.denied.push(held.grant);
  }
  return out;
}

function dayBefore(instant: Date, days: number): string {
  return new Date(instant.getTime() - days * 86400_000).toISOString().slice(0, 10);
}

function describe(a: AllowedBy): string {
  const parts = [
    ...a.baseline.map(b => `baseline ${b}`),
    ...a.grants.map(g => `grant ${g.grant}${g.ticket ? ` (${g.ticket}${g.requestedBy ? `, ${g.requestedBy}` : ''})` : ''}`),
    ...a.conditional.map(c => `${c}?`),
    ...a.denied.map(d => `denied by ${d}`),
  ];
  return parts.join('; ') || 'nothing the ledger knows';
}

export async function activity(ctx: CommandContext): Promise<number> {
  const roleName = await ctx.role();
  const until = ctx.flags.opt('until') !== undefined ? new Date(Date.parse(ctx.instant('until', 'instant'))) : ctx.now();
  const since = ctx.flags.opt('since') !== undefined ? ctx.instant('since', 'instant') : undefined;
  if (since && Date.parse(since) > until.getTime())
    throw new UsageError(`--since ${since} is after --until ${until.toISOString()}: swap them`, 'BAD_WINDOW');
  const sinceDay = since ? since.slice(0, 10) : dayBefore(until, DEFAULT_WINDOW_DAYS);
  const untilDay = until.toISOString().slice(0, 10);
  const table = ctx.ledgerTable();
  const [items, records, role] = await Promise.all([
    readActivity(ctx.clients.ddb, table, roleName, sinceDay, untilDay),
    readRecords(ctx.clients.ddb, table, roleName),
    readRole(ctx.clients.iam, roleName),
  ]);
  const spec = role?.agentId ? (await readSpecs(ctx.clients.ssm)).get(role.agentId)?.spec : undefined;
  const baseline = spec?.baseline ?? [];
  const sinceMs = since ? Date.parse(since) : 0;
  const lines: ActivityLine[] = items
    // Days are whole; the instants at the window's edges are honoured by last and first seen.
    .filter(i => Date.parse(i.lastSeenAt) >= sinceMs && Date.parse(i.firstSeenAt) <= until.getTime())
    .filter(i => !ctx.flags.bool('writes') || i.access === 'write')
    .map(i => ({
      day: i.day,
      action: i.action,
      resource: i.resource,
      access: i.access,
      count: i.count,
      firstSeenAt: i.firstSeenAt,
      lastSeenAt: i.lastSeenAt,
      attributions: i.attributions,
      first: allowedBy(i.firstSeenAt, i.action, i.resource, baseline, records, role),
      last: allowedBy(i.lastSeenAt, i.action, i.resource, baseline, records, role),
    }));
  const window = { since: since ?? `${sinceDay}T00:00:00Z`, until: until.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  if (ctx.json) {
    ctx.outJson({ roleName, ...window, ...(spec ? {} : { note: 'no approved spec found: baseline not judged' }), activity: lines });
    return 0;
  }
  if (!lines.length) {
    ctx.out(`No recorded activity of ${roleName} between ${window.since} and ${window.until}.`);
    return 0;
  }
  ctx.out(
    renderTable(
      ['DAY', 'ACCESS', 'ACTION', 'RESOURCE', 'COUNT', 'ALLOWED BY (FIRST)', 'ALLOWED BY (LAST)'],
      lines.map(l => [l.day, l.access, l.action, l.resource, l.count, describe(l.first), describe(l.last)]),
    ),
  );
  if (!spec) ctx.out(`No approved spec found for ${roleName}: baseline policies were not judged.`);
  return 0;
}

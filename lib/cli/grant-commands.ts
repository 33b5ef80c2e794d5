/** request, renew, restore: the commands that give a role time-bound permissions. */
import { AttachRolePolicyCommand, PutRolePolicyCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import {
  AgentSpec, ContractError, DEFAULT_MAX_RENEWALS, EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, formatExpiry, formatGrantTag,
  GRANT_NAME_CHARS, GRANT_NAME_MAX_LENGTH, GrantMemory, grantDocumentWithExpiry, grantTagKey, LedgerRecord, parseExpiry,
  parseGrantTag, PolicyDocumentJson, renewalPartition, RenewalRecord, specParameterName, statementsOf,
} from '../private/contract';
import { ApplyContext, applyIamAction, recordAndPublish } from '../sweeper/apply';
import { patchState, PlannedRecord } from '../sweeper/decide';
import { LedgerConflictError, readRecords, readRoleState } from '../sweeper/ledger';
import { chooseRenewal, identityName, isSelfApproval, readRenewals, renewalProblem } from '../sweeper/renewal';
import { GovernedRole, policyNameOfArn, readRole } from '../sweeper/snapshot';
import { parseSpecParameter } from '../sweeper/specs';
import { UsageError } from './args';
import { CommandContext } from './context';

async function readSpec(ctx: CommandContext, role: GovernedRole): Promise<AgentSpec> {
  if (!role.agentId) throw new UsageError(`role ${role.roleName} has no governance:agent tag, so it has no approved spec`, 'NO_AGENT_TAG');
  const name = specParameterName(role.agentId);
  let value: string | undefined;
  try {
    value = (await ctx.clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (e) {
    if ((e as { name?: string }).name === 'ParameterNotFound') throw new UsageError(`no approved spec at ${name}: deploy the agent's stack first`, 'SPEC_MISSING');
    throw e;
  }
  const lookup = parseSpecParameter(role.agentId, name, value ?? '');
  if (!lookup.spec) throw new UsageError(lookup.error!.message, lookup.error!.code);
  return lookup.spec;
}

async function governedRole(ctx: CommandContext): Promise<GovernedRole> {
  const name = await ctx.role();
  const role = await readRole(ctx.clients.iam, name);
  if (!role) throw new UsageError(`role ${name} is not governed (no governance:managed-by tag)`, 'NO_SUCH_ROLE');
  return role;
}

function applyContext(ctx: CommandContext, actor: string, at: string): ApplyContext {
  return { clients: ctx.clients, ledgerTable: ctx.ledgerTable(), runId: randomUUID(), actor, at, eventBusName: ctx.flags.opt('event-bus') };
}

/** Appends a CLI record, re-reading the head when a sweep wrote first. */
async function appendCliRecord(
  ctx: CommandContext, actx: ApplyContext, role: GovernedRole, planned: PlannedRecord, memory: GrantMemory | undefined, extraPuts: Record<string, unknown>[] = [],
): Promise<LedgerRecord> {
  for (let attempt = 0; ; attempt++) {
    const head = await readRoleState(ctx.clients.ddb, actx.ledgerTable, role.roleName);
    try {
      const r = await recordAndPublish(actx, head, role.agentId, planned, patchState(head, memory && planned.grant ? { grants: { [planned.grant]: memory } } : undefined), extraPuts);
      return r.record;
    } catch (e) {
      if (!(e instanceof LedgerConflictError) || attempt >= 5) throw e;
    }
  }
}

function checkUntil(until: string, now: Date, spec: AgentSpec): void {
  const ms = parseExpiry(until).getTime() - now.getTime();
  if (ms <= 0) throw new UsageError(`--until ${until} is not in the future (now is ${formatExpiry(now)})`, 'BAD_UNTIL');
  if (ms / 1000 > spec.maxGrantDurationSeconds) {
    throw new UsageError(`--until ${until} is more than the role's maximum grant duration (${spec.maxGrantDurationSeconds}s) from now; pick an instant before ${formatExpiry(new Date(now.getTime() + spec.maxGrantDurationSeconds * 1000))}`, 'TOO_LONG');
  }
}

function readPolicyFile(file: string): PolicyDocumentJson {
  let doc: PolicyDocumentJson;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--policy-file ${file}: ${(e as Error).message}`, 'BAD_POLICY_FILE');
  }
  let statements;
  try {
    statements = statementsOf(doc);
  } catch {
    throw new UsageError(`--policy-file ${file} has no Statement: give an IAM policy document`, 'BAD_POLICY_FILE');
  }
  statements.forEach((s, i) => {
    if (!s || typeof s !== 'object') throw new UsageError(`--policy-file ${file}: statement ${i + 1} is not an object`, 'BAD_POLICY_FILE');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Effect Allow or Deny`, 'BAD_POLICY_FILE');
    if (s.Action === undefined && s.NotAction === undefined) throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Action or NotAction`, 'BAD_POLICY_FILE');
    if (s.Resource === undefined && s.NotResource === undefined) throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Resource or NotResource`, 'BAD_POLICY_FILE');
  });
  return doc;
}

export async function request(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const grantFlag = f.opt('grant');
  const policyArn = f.opt('policy-arn');
  const policyFile = f.opt('policy-file');
  if ((policyArn === undefined) === (policyFile === undefined)) throw new UsageError('request needs exactly one of --policy-arn <arn> or --policy-file <file>');
  const grant = grantFlag ?? (policyArn ? policyNameOfArn(policyArn) : f.req('grant', 'grant name'));
  if (policyArn && grant !== policyNameOfArn(policyArn)) throw new UsageError(`--grant ${grant} must be the managed policy's name (${policyNameOfArn(policyArn)})`);
  if (!GRANT_NAME_CHARS.test(grant) || grant.length > GRANT_NAME_MAX_LENGTH) {
    throw new UsageError(`grant name "${grant}" must be 1..${GRANT_NAME_MAX_LENGTH} characters of letters, digits and _ . + = @ -`, 'BAD_GRANT_NAME');
  }
  const until = ctx.instant('until', 'instant');
  const ticket = f.req('ticket', 'ticket');
  const reason = f.req('reason', 'text');
  const doc = policyFile ? readPolicyFile(policyFile) : undefined;
  const role = await governedRole(ctx);
  const spec = await readSpec(ctx, role);
  const now = ctx.now();
  checkUntil(until, now, spec);
  if (spec.baseline.some(b => b.name === grant)) throw new UsageError(`${grant} is a baseline policy of ${role.roleName}; pick another grant name`, 'BASELINE_NAME');
  const caller = await ctx.callerArn();
  const requestedBy = f.opt('requested-by') ?? identityName(caller);
  let tagValue: string;
  try {
    tagValue = formatGrantTag({ expiresAt: until, requestedBy, ticket });
  } catch (e) {
    throw new UsageError((e as ContractError).message, (e as ContractError).code);
  }
  const at = formatExpiry(now);
  const actx = applyContext(ctx, caller, at);
  // Adding: IAM first, then the record (nothing is removed here).
  let attachment;
  if (doc) {
    const document = JSON.stringify(grantDocumentWithExpiry(doc, until));
    await ctx.clients.iam.send(new PutRolePolicyCommand({ RoleName: role.roleName, PolicyName: grant, PolicyDocument: document }));
    attachment = { kind: 'inline' as const, name: grant, document };
  } else {
    await ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: role.roleName, PolicyArn: policyArn! }));
    attachment = { kind: 'managed' as const, name: grant, arn: policyArn! };
  }
  await ctx.clients.iam.send(new TagRoleCommand({ RoleName: role.roleName, Tags: [{ Key: grantTagKey(grant), Value: tagValue }] }));
  const record = await appendCliRecord(ctx, actx, role, {
    decision: 'requested', grant, expiresAt: until, requestedBy, ticket, policy: attachment, message: `${grant} requested by ${requestedBy} until ${until}: ${reason}`,
  }, { expiresAt: until, requestedBy, ticket, status: 'active', origin: 'grant', firstSeenAt: at });
  if (ctx.json) ctx.outJson({ roleName: role.roleName, grant, expiresAt: until, requestedBy, ticket, record });
  else ctx.out(`Granted ${grant} to ${role.roleName} until ${until} (requested by ${requestedBy}, ticket ${ticket}).`);
  return 0;
}

/** The requester of a grant: from its tag, or (when revoked) from the ledger. */
async function requesterOf(ctx: CommandContext, role: GovernedRole, grant: string): Promise<string | undefined> {
  const tag = role.tags[grantTagKey(grant)];
  if (tag !== undefined) {
    try { return parseGrantTag(tag).requestedBy; } catch { /* fall through to the ledger */ }
  }
  const state = await readRoleState(ctx.clients.ddb, ctx.ledgerTable(), role.roleName);
  return state.grants[grant]?.requestedBy;
}

export async function renew(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const grant = f.req('grant', 'grant name');
  const until = ctx.instant('until', 'instant');
  const ticket = f.req('ticket', 'ticket');
  const role = await governedRole(ctx);
  const spec = await readSpec(ctx, role);
  const now = ctx.now();
  checkUntil(until, now, spec);
  const requestedBy = await requesterOf(ctx, role, grant);
  if (!requestedBy) throw new UsageError(`role ${role.roleName} has no grant ${grant} (no tag and nothing in the ledger)`, 'NO_SUCH_GRANT');
  const approvedBy = await ctx.callerArn(); // never from a flag
  if (isSelfApproval(approvedBy, requestedBy)) {
    throw new UsageError(`you (${approvedBy}) requested ${grant}; a renewal must be approved by someone else`, 'SELF_APPROVAL');
  }
  const table = ctx.ledgerTable();
  const existing = (await readRenewals(ctx.clients.ddb, table, [renewalPartition(role.roleName, grant)])).get(renewalPartition(role.roleName, grant)) ?? [];
  const maxRenewals = spec.maxRenewals ?? DEFAULT_MAX_RENEWALS;
  if (existing.length >= maxRenewals) throw new UsageError(`${grant} was renewed ${existing.length} times; the spec allows ${maxRenewals}. Request it anew instead`, 'TOO_MANY_RENEWALS');
  const createdAt = formatExpiry(now);
  const renewalId = randomUUID();
  const renewal: RenewalRecord = {
    pk: renewalPartition(role.roleName, grant), sk: `${createdAt}#${renewalId}`, renewalId, roleName: role.roleName, grant, until, ticket, requestedBy, approvedBy, createdAt,
  };
  const problem = renewalProblem(renewal, role.roleName, grant, requestedBy, now.getTime(), spec, existing.length + 1);
  if (problem) throw new UsageError(`this renewal would not be valid: it ${problem}`, 'BAD_RENEWAL');
  const actx = applyContext(ctx, approvedBy, createdAt);
  const record = await appendCliRecord(ctx, actx, role, {
    decision: 'renewal-recorded', grant, expiresAt: until, requestedBy, ticket, message: `renewal of ${grant} until ${until} approved by ${approvedBy}; the next sweep applies it`,
  }, undefined, [renewal as unknown as Record<string, unknown>]);
  if (ctx.json) ctx.outJson({ renewal, record });
  else ctx.out(`Recorded renewal ${renewalId}: ${grant} on ${role.roleName} until ${until}, approved by ${approvedBy}. The next sweep applies it (or run restore if it was revoked).`);
  return 0;
}

export async function restore(ctx: CommandContext): Promise<number> {
  const grant = ctx.flags.req('grant', 'grant name');
  const role = await governedRole(ctx);
  const spec = await readSpec(ctx, role);
  const table = ctx.ledgerTable();
  const now = ctx.now();
  const records = await readRecords(ctx.clients.ddb, table, role.roleName);
  const revoked = [...records].reverse().find(r => r.grant === grant && r.decision === 'revoked');
  if (!revoked || !revoked.policy) throw new UsageError(`the ledger has no revocation of ${grant} on ${role.roleName} to restore from`, 'NOTHING_TO_RESTORE');
  if (role.policies.some(p => p.name === grant)) throw new UsageError(`${grant} is already on ${role.roleName}; use renew instead`, 'ALREADY_PRESENT');
  const requestedBy = revoked.requestedBy ?? 'unknown';
  const key = renewalPartition(role.roleName, grant);
  const renewal = chooseRenewal((await readRenewals(ctx.clients.ddb, table, [key])).get(key), role.roleName, grant, requestedBy, now.getTime(), spec);
  if (!renewal) throw new UsageError(`restore needs a valid renewal of ${grant}: ask someone other than ${requestedBy} to run "permission-decay renew --role ${role.roleName} --grant ${grant} --until <instant> --ticket <ticket>"`, 'NO_VALID_RENEWAL');
  const caller = await ctx.callerArn();
  const at = formatExpiry(now);
  const actx = applyContext(ctx, caller, at);
  const p = revoked.policy;
  let restoredPolicy = p;
  if (p.kind === 'inline') {
    const document = JSON.stringify(grantDocumentWithExpiry(JSON.parse(p.document!), renewal.until));
    await applyIamAction(actx, role.roleName, { type: 'put-inline', policyName: p.name, document });
    restoredPolicy = { ...p, document };
  } else {
    // A customer-managed grant carrying our date condition gets a version with the renewal's end.
    if (p.document && p.arn && !p.arn.startsWith('arn:aws:iam::aws:') && p.document.includes(EXPIRY_CONDITION_KEY) && p.document.includes(EXPIRY_CONDITION_OPERATOR)) {
      const document = JSON.stringify(grantDocumentWithExpiry(JSON.parse(p.document), renewal.until));
      await applyIamAction(actx, role.roleName, { type: 'create-policy-version', policyArn: p.arn, document });
      restoredPolicy = { ...p, document };
    }
    await ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: role.roleName, PolicyArn: p.arn! }));
  }
  await applyIamAction(actx, role.roleName, { type: 'tag', key: grantTagKey(grant), value: formatGrantTag({ expiresAt: renewal.until, requestedBy, ticket: revoked.ticket ?? renewal.ticket }) });
  const record = await appendCliRecord(ctx, actx, role, {
    decision: 'restored', grant, expiresAt: renewal.until, requestedBy, ticket: revoked.ticket ?? renewal.ticket, policy: restoredPolicy,
    message: `${grant} restored from record ${revoked.seq} until ${renewal.until} (renewal ${renewal.renewalId}, approved by ${renewal.approvedBy})`,
  }, { expiresAt: renewal.until, requestedBy, ticket: revoked.ticket ?? renewal.ticket, status: 'active', origin: 'grant', firstSeenAt: at });
  if (ctx.json) ctx.outJson({ roleName: role.roleName, grant, expiresAt: renewal.until, record });
  else ctx.out(`Restored ${grant} on ${role.roleName} from ledger record ${revoked.seq}; it now expires at ${renewal.until}.`);
  return 0;
}

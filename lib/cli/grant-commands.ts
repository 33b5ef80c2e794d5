/**
 * request, renew, restore: the commands that give a role time-bound permissions.
 *
 * Who acts is the caller as STS returns it, and when is the real clock: no
 * flag names either. A person writes only their own sealed intents (under
 * SEAL#<aws:userid>, which IAM confines them to) and pointers to them, plus
 * the IAM change; they never write the ledger's chain or STATE. The sweeper
 * records what they did, signed, when it next sees the role.
 */
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import {
  AgentSpec,
  CallerIdentity,
  ContractError,
  DEFAULT_MAX_RENEWALS,
  formatExpiry,
  formatGrantTag,
  GRANT_NAME_CHARS,
  GRANT_NAME_MAX_LENGTH,
  grantDocumentWithExpiry,
  grantTagKey,
  parseExpiry,
  parseGrantTag,
  PolicyDocumentJson,
  renewalPartition,
  RenewalRecord,
  requestPartition,
  SealedIntent,
  specParameterName,
  statementsOf,
} from '../contract';
import { ApplyContext, applyIntentStep } from '../sweeper/apply';
import { identityRuleFromEnv, personOf } from '../sweeper/identity';
import { IamAction } from '../sweeper/plan';
import { readRecords, readRoleState } from '../sweeper/ledger';
import { chooseRenewal, isSelfApproval, readRenewals, renewalIntent, renewalProblem, sealedRequesters } from '../sweeper/renewal';
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
    if ((e as { name?: string }).name === 'ParameterNotFound')
      throw new UsageError(`no approved spec at ${name}: deploy the agent's stack first`, 'SPEC_MISSING');
    throw e;
  }
  const lookup = parseSpecParameter(role.agentId, name, value ?? '');
  if (!lookup.spec) throw new UsageError(lookup.error!.message, lookup.error!.code);
  return lookup.spec;
}

export async function governedRole(ctx: CommandContext): Promise<GovernedRole> {
  const name = await ctx.role();
  const role = await readRole(ctx.clients.iam, name);
  if (!role) throw new UsageError(`role ${name} is not governed (no governance:managed-by tag)`, 'NO_SUCH_ROLE');
  return role;
}

function applyContext(ctx: CommandContext, actor: string, at: string): ApplyContext {
  return { clients: ctx.clients, ledgerTable: ctx.ledgerTable(), runId: randomUUID(), actor, at };
}

function intentOf(
  kind: SealedIntent['kind'],
  caller: CallerIdentity,
  f: Omit<SealedIntent, 'kind' | 'callerArn' | 'userId' | 'account'>,
): SealedIntent {
  return { kind, ...f, callerArn: caller.arn, userId: caller.userId, account: caller.account };
}

function checkUntil(until: string, now: Date, spec: AgentSpec): void {
  const ms = parseExpiry(until).getTime() - now.getTime();
  if (ms <= 0) throw new UsageError(`--until ${until} is not in the future (now is ${formatExpiry(now)})`, 'BAD_UNTIL');
  if (ms / 1000 > spec.maxGrantDurationSeconds) {
    throw new UsageError(
      `--until ${until} is more than the role's maximum grant duration (${spec.maxGrantDurationSeconds}s) from now; pick an instant before ${formatExpiry(new Date(now.getTime() + spec.maxGrantDurationSeconds * 1000))}`,
      'TOO_LONG',
    );
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
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Effect Allow or Deny`, 'BAD_POLICY_FILE');
    if (s.Action === undefined && s.NotAction === undefined)
      throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Action or NotAction`, 'BAD_POLICY_FILE');
    if (s.Resource === undefined && s.NotResource === undefined)
      throw new UsageError(`--policy-file ${file}: statement ${i + 1} needs Resource or NotResource`, 'BAD_POLICY_FILE');
  });
  return doc;
}

export async function request(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const grantFlag = f.opt('grant');
  const policyArn = f.opt('policy-arn');
  const policyFile = f.opt('policy-file');
  if ((policyArn === undefined) === (policyFile === undefined))
    throw new UsageError('request needs exactly one of --policy-arn <arn> or --policy-file <file>');
  const grant = grantFlag ?? (policyArn ? policyNameOfArn(policyArn) : f.req('grant', 'grant name'));
  if (policyArn && grant !== policyNameOfArn(policyArn))
    throw new UsageError(`--grant ${grant} must be the managed policy's name (${policyNameOfArn(policyArn)})`);
  const until = ctx.instant('until', 'instant');
  const ticket = f.req('ticket', 'ticket');
  const reason = f.req('reason', 'text');
  const doc = policyFile ? readPolicyFile(policyFile) : undefined;
  return requestGrant(ctx, await governedRole(ctx), { grant, doc, policyArn, until, ticket, reason });
}

/** What a request puts on a role: an inline document or a managed policy, until when, and why. */
export interface GrantRequest {
  readonly grant: string;
  readonly doc?: PolicyDocumentJson;
  readonly policyArn?: string;
  readonly until: string;
  readonly ticket: string;
  readonly reason: string;
  /** Further fields written on the request's pointer (e.g. the access request it answers). */
  readonly pointerExtra?: Record<string, unknown>;
}

/** The request path every way of asking goes through: checks against the spec, the sealed intent, the IAM change. */
export async function requestGrant(ctx: CommandContext, role: GovernedRole, r: GrantRequest): Promise<number> {
  const { grant, doc, policyArn, until, ticket, reason } = r;
  if (!GRANT_NAME_CHARS.test(grant) || grant.length > GRANT_NAME_MAX_LENGTH) {
    throw new UsageError(
      `grant name "${grant}" must be 1..${GRANT_NAME_MAX_LENGTH} characters of letters, digits and _ . + = @ -`,
      'BAD_GRANT_NAME',
    );
  }
  const spec = await readSpec(ctx, role);
  const now = ctx.clock();
  checkUntil(until, now, spec);
  if (spec.baseline.some(b => b.name === grant))
    throw new UsageError(`${grant} is a baseline policy of ${role.roleName}; pick another grant name`, 'BASELINE_NAME');
  // A live grant asked for again is an extension: that is a renewal, approved by someone else.
  if (role.policies.some(p => p.name === grant)) {
    throw new UsageError(
      `${grant} is already on ${role.roleName}; to extend it, ask someone else to run ` +
        `"permission-decay renew --role ${role.roleName} --grant ${grant} --until <instant> --ticket <ticket>"`,
      'ALREADY_PRESENT',
    );
  }
  const caller = await ctx.caller();
  const requestedBy = caller.arn;
  let tagValue: string;
  try {
    tagValue = formatGrantTag({ expiresAt: until, requestedBy, ticket });
  } catch (e) {
    throw new UsageError((e as ContractError).message, (e as ContractError).code);
  }
  const at = formatExpiry(now);
  const requestId = randomUUID();
  const intent = intentOf('request', caller, { id: requestId, roleName: role.roleName, grant, until, ticket, createdAt: at });
  // The seal first: a grant whose IAM change then fails leaves only a harmless intent behind.
  const attach: IamAction = doc
    ? { type: 'put-inline', policyName: grant, document: JSON.stringify(grantDocumentWithExpiry(doc, until)) }
    : { type: 'attach', policyArn: policyArn! };
  await applyIntentStep(applyContext(ctx, caller.arn, at), {
    roleName: role.roleName,
    intent,
    pointer: { pk: requestPartition(role.roleName, grant), sk: `${at}#${requestId}`, extra: { reason, ...r.pointerExtra } },
    actions: [attach, { type: 'tag', key: grantTagKey(grant), value: tagValue }],
  });
  if (ctx.json)
    ctx.outJson({ roleName: role.roleName, grant, expiresAt: until, requestedBy, requesterUserId: caller.userId, ticket, requestId });
  else
    ctx.out(
      `Granted ${grant} to ${role.roleName} until ${until} (requested by ${requestedBy}, ticket ${ticket}). ` +
        'The next sweep records it.',
    );
  return 0;
}

/** The requester a grant's tag (or, when revoked, the ledger) names: a claim, compared by name only. */
async function claimedRequester(ctx: CommandContext, role: GovernedRole, grant: string): Promise<string | undefined> {
  const tag = role.tags[grantTagKey(grant)];
  if (tag !== undefined) {
    try {
      return parseGrantTag(tag).requestedBy;
    } catch {
      /* fall through to the ledger */
    }
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
  const now = ctx.clock();
  checkUntil(until, now, spec);
  const table = ctx.ledgerTable();
  const rule = identityRuleFromEnv(ctx.io.env);
  const claimed = await claimedRequester(ctx, role, grant);
  const specGrant = spec.grants.find(g => g.name === grant);
  const requesters = await sealedRequesters(ctx.clients.ddb, table, role.roleName, grant, rule);
  if (!claimed && requesters.length === 0 && !specGrant) {
    throw new UsageError(`role ${role.roleName} has no grant ${grant} (no tag, no sealed request, nothing in the ledger)`, 'NO_SUCH_GRANT');
  }
  const caller = await ctx.caller(); // never from a flag
  const approver = personOf(caller.userId, rule);
  const requestedBy = claimed ?? specGrant?.requestedBy ?? 'unknown';
  if (requesters.includes(approver) || isSelfApproval(caller.arn, requestedBy)) {
    throw new UsageError(`you (${caller.arn}) requested ${grant}; a renewal must be approved by someone else`, 'SELF_APPROVAL');
  }
  const key = renewalPartition(role.roleName, grant);
  const existing = (await readRenewals(ctx.clients.ddb, table, [key], undefined, rule)).get(key) ?? [];
  const maxRenewals = spec.maxRenewals ?? DEFAULT_MAX_RENEWALS;
  if (existing.length >= maxRenewals)
    throw new UsageError(
      `${grant} was renewed ${existing.length} times; the spec allows ${maxRenewals}. Request it anew instead`,
      'TOO_MANY_RENEWALS',
    );
  const createdAt = formatExpiry(now);
  const renewalId = randomUUID();
  const renewal: RenewalRecord = {
    pk: key,
    sk: `${createdAt}#${renewalId}`,
    renewalId,
    roleName: role.roleName,
    grant,
    until,
    ticket,
    requestedBy,
    approvedBy: caller.arn,
    createdAt,
    approverUserId: caller.userId,
    approverAccount: caller.account,
  };
  const checked = { ...renewal, verified: { approver, requesters } };
  const problem = renewalProblem(checked, role.roleName, grant, requestedBy, now.getTime(), spec, existing.length + 1);
  if (problem) throw new UsageError(`this renewal would not be valid: it ${problem}`, 'BAD_RENEWAL');
  const extra = { requestedBy, approvedBy: caller.arn, approverUserId: caller.userId, approverAccount: caller.account, renewalId };
  // No IAM change: the sweeper moves the grant's expiry when it applies the renewal (or restore puts it back).
  await applyIntentStep(applyContext(ctx, caller.arn, createdAt), {
    roleName: role.roleName,
    intent: renewalIntent(renewal),
    pointer: { pk: renewal.pk, sk: renewal.sk, extra },
    actions: [],
  });
  if (ctx.json) ctx.outJson({ renewal });
  else
    ctx.out(
      `Recorded renewal ${renewalId}: ${grant} on ${role.roleName} until ${until}, approved by ${caller.arn}. ` +
        'The next sweep applies it (or run restore if it was revoked).',
    );
  return 0;
}

export async function restore(ctx: CommandContext): Promise<number> {
  const grant = ctx.flags.req('grant', 'grant name');
  const role = await governedRole(ctx);
  const spec = await readSpec(ctx, role);
  const table = ctx.ledgerTable();
  const now = ctx.clock();
  const records = await readRecords(ctx.clients.ddb, table, role.roleName);
  const revoked = [...records].reverse().find(r => r.grant === grant && r.decision === 'revoked');
  if (!revoked || !revoked.policy)
    throw new UsageError(`the ledger has no revocation of ${grant} on ${role.roleName} to restore from`, 'NOTHING_TO_RESTORE');
  if (role.policies.some(p => p.name === grant))
    throw new UsageError(`${grant} is already on ${role.roleName}; use renew instead`, 'ALREADY_PRESENT');
  const requestedBy = revoked.requestedBy ?? 'unknown';
  const key = renewalPartition(role.roleName, grant);
  const rule = identityRuleFromEnv(ctx.io.env);
  const sealed = (await readRenewals(ctx.clients.ddb, table, [key], undefined, rule)).get(key);
  const renewal = chooseRenewal(sealed, role.roleName, grant, requestedBy, now.getTime(), spec);
  if (!renewal)
    throw new UsageError(
      `restore needs a valid renewal of ${grant}: ask someone other than ${requestedBy} to run "permission-decay renew --role ${role.roleName} --grant ${grant} --until <instant> --ticket <ticket>"`,
      'NO_VALID_RENEWAL',
    );
  const caller = await ctx.caller();
  const at = formatExpiry(now);
  const actx = applyContext(ctx, caller.arn, at);
  const ticket = revoked.ticket ?? renewal.ticket;
  const restoreId = randomUUID();
  const p = revoked.policy;
  // Re-attached as it was; the next sweep moves a customer-managed grant's date condition to the renewal's end
  // (it renews it), so a requester never needs to write policy versions.
  const putBack: IamAction =
    p.kind === 'inline'
      ? {
          type: 'put-inline',
          policyName: p.name,
          document: JSON.stringify(grantDocumentWithExpiry(JSON.parse(p.document!), renewal.until)),
        }
      : { type: 'attach', policyArn: p.arn! };
  await applyIntentStep(actx, {
    roleName: role.roleName,
    intent: intentOf('restore', caller, { id: restoreId, roleName: role.roleName, grant, until: renewal.until, ticket, createdAt: at }),
    actions: [putBack, { type: 'tag', key: grantTagKey(grant), value: formatGrantTag({ expiresAt: renewal.until, requestedBy, ticket }) }],
  });
  if (ctx.json) {
    ctx.outJson({
      roleName: role.roleName,
      grant,
      expiresAt: renewal.until,
      fromRecord: revoked.seq,
      renewalId: renewal.renewalId,
      restoredBy: caller.arn,
    });
  } else {
    ctx.out(
      `Restored ${grant} on ${role.roleName} from ledger record ${revoked.seq}; it now expires at ${renewal.until}. The next sweep records it.`,
    );
  }
  return 0;
}

/**
 * The decision core in memory: build a role, its ledger STATE and its approved
 * spec, and apply a plan to them the way `apply` would (record → STATE patch,
 * then the IAM actions), so "plan again" can be checked without AWS.
 */
import {
  AgentSpec,
  grantDocumentWithExpiry,
  LedgerRoleState,
  MANAGED_BY_VALUE,
  PolicyDocumentJson,
  SPEC_VERSION,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
} from '../../lib/contract';
import { DecideOptions, decideRole, patchState, RolePlan } from '../../lib/sweeper/decide';
import { emptyState } from '../../lib/sweeper/ledger';
import { RenewalIndex } from '../../lib/sweeper/renewal';
import { GovernedRole, RolePolicy } from '../../lib/sweeper/snapshot';
import { SpecLookup } from '../../lib/sweeper/specs';

export const ROLE = 'agent-p';
export const AGENT = 'p';
export const OPTIONS: DecideOptions = { strict: false, driftPeriodSeconds: 7 * 86400, warningWindowSeconds: 3 * 86400 };

export function grantDoc(expiresAt: string, action = 's3:GetObject'): string {
  return JSON.stringify(
    grantDocumentWithExpiry({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] }, expiresAt),
  );
}

export function plainDoc(action = 'logs:PutLogEvents'): PolicyDocumentJson {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] };
}

export function role(policies: RolePolicy[], grantTags: Record<string, string>, extraTags: Record<string, string> = {}): GovernedRole {
  return {
    roleName: ROLE,
    arn: `arn:aws:iam::123456789012:role/${ROLE}`,
    agentId: AGENT,
    owner: 'owner@example.com',
    tags: { [TAG_MANAGED_BY]: MANAGED_BY_VALUE, [TAG_AGENT]: AGENT, [TAG_OWNER]: 'owner@example.com', ...grantTags, ...extraTags },
    policies,
  };
}

export function spec(
  baseline: { name: string; kind?: 'inline' | 'managed'; document?: PolicyDocumentJson; arn?: string }[],
  grants: AgentSpec['grants'] = [],
): SpecLookup {
  return {
    spec: {
      v: SPEC_VERSION,
      agentId: AGENT,
      roleName: ROLE,
      owner: 'owner@example.com',
      maxGrantDurationSeconds: 30 * 86400,
      maxRenewals: 3,
      baseline: baseline.map(b => ({
        kind: b.kind ?? 'inline',
        name: b.name,
        ...(b.arn ? { arn: b.arn } : {}),
        ...(b.document ? { document: b.document } : {}),
      })),
      grants,
    },
  };
}

/**
 * Applies a role's plan in memory, as apply.ts does against AWS. With `at` (the sweep's instant), the
 * first record of a role also sets STATE's firstSeenAt, as the ledger's append does.
 */
export function applyInMemory(
  r: GovernedRole,
  state: LedgerRoleState,
  plan: RolePlan,
  at?: string,
): { role: GovernedRole; state: LedgerRoleState; records: string[] } {
  let policies = [...r.policies];
  const tags: Record<string, string> = { ...r.tags };
  let s = state;
  const records: string[] = [];
  for (const step of plan.steps) {
    if (step.record) {
      records.push(`${step.record.decision}:${step.grant ?? ''}`);
      const firstSeenAt = s.firstSeenAt ?? (s.seq === 0 ? at : undefined);
      s = { ...s, ...patchState(s, step.memory), seq: s.seq + 1, ...(firstSeenAt !== undefined ? { firstSeenAt } : {}) } as LedgerRoleState;
      if (!step.memory || !('specError' in step.memory)) s = s.specError === undefined ? s : s;
    }
    for (const a of step.actions) {
      switch (a.type) {
        case 'put-inline':
          policies = policies.map(p => (p.kind === 'inline' && p.name === a.policyName ? { ...p, document: a.document } : p));
          break;
        case 'create-policy-version':
          policies = policies.map(p => (p.arn === a.policyArn ? { ...p, document: a.document } : p));
          break;
        case 'delete-inline':
          policies = policies.filter(p => !(p.kind === 'inline' && p.name === a.policyName));
          break;
        case 'detach':
          policies = policies.filter(p => p.arn !== a.policyArn);
          break;
        // IAM role tag keys are not case sensitive (case is kept): a tag replaces, and an untag removes, every key equal ignoring case.
        case 'tag':
          dropKey(tags, a.key);
          tags[a.key] = a.value;
          break;
        case 'untag':
          dropKey(tags, a.key);
          break;
      }
    }
  }
  return { role: { ...r, policies, tags }, state: s, records };
}

function dropKey(tags: Record<string, string>, key: string): void {
  for (const k of Object.keys(tags)) if (k.toLowerCase() === key.toLowerCase()) delete tags[k];
}

export function decide1(
  r: GovernedRole,
  state: LedgerRoleState | undefined,
  lookup: SpecLookup,
  renewals: RenewalIndex,
  now: string,
  options = OPTIONS,
): RolePlan {
  return decideRole(r, state ?? emptyState(r.roleName), lookup, renewals, new Date(now), options);
}

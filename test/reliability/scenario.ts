/**
 * Shared by the reliability suites: a governed account with every kind of
 * decision, and the observable outcome of a sweep (IAM state, ledger decisions
 * per role and grant, the STATE items) with the parts that legitimately differ
 * between runs (run ids, timestamps of writes, hashes) left out.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { canonicalPolicyJson, grantTagKey, LedgerRecord, MANAGED_BY_VALUE, TAG_MANAGED_BY } from '../../lib/contract';
import { AwsClients } from '../../lib/sweeper/aws-clients';
import { readLedgerState, readRecords, verifyChain } from '../../lib/sweeper/ledger';
import { createGovernedRole, doc, GovernedRoleFixture } from '../support/governed-fixtures';

export const NOW = '2030-01-10T00:00:00Z';
export const EXPIRED = '2030-01-09T00:00:00Z';
export const LATER = '2030-02-01T00:00:00Z';
export const SOON = '2030-01-11T00:00:00Z';

/** The i-th role of a mixed account: every decision a sweep can take appears every 6 roles. */
export function mixedRole(i: number): GovernedRoleFixture {
  const agentId = `r${String(i).padStart(4, '0')}`;
  switch (i % 6) {
    case 0:
      return {
        agentId,
        baseline: [{ name: 'base' }],
        grants: [
          { name: 'old', expiresAt: EXPIRED },
          { name: 'fresh', expiresAt: LATER, document: doc('sqs:SendMessage') },
        ],
      };
    case 1:
      return { agentId, baseline: [{ name: 'base' }], grants: [{ name: `${agentId}-mp`, kind: 'managed', expiresAt: EXPIRED }] };
    case 2:
      return { agentId, baseline: [{ name: 'base' }], drift: [{ name: 'handmade' }] };
    case 3:
      return { agentId, grants: [{ name: 'bad', expiresAt: LATER, tag: 'expires=2030-13-01T00:00:00Z by=bob ticket=T-1' }] };
    case 4:
      return {
        agentId,
        grants: [
          { name: 'soon', expiresAt: SOON },
          { name: 'cdk', expiresAt: EXPIRED, inSpec: true },
        ],
      };
    default:
      return { agentId, baseline: [{ name: 'base' }], grants: [{ name: 'spec', expiresAt: LATER, inSpec: true }] };
  }
}

/** Creates `count` mixed roles, `parallel` at a time. After creation: a ghost grant tag on every 4th-kind role. */
export async function createMixedAccount(clients: AwsClients, count: number, parallel = 8): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, k) => i + k);
    const created = await Promise.all(
      batch.map(async j => {
        const r = await createGovernedRole(clients, mixedRole(j));
        if (j % 6 === 4) {
          await clients.iam.send(
            new TagRoleCommand({
              RoleName: r.roleName,
              Tags: [{ Key: grantTagKey('ghost'), Value: `expires=${LATER} by=bob ticket=T-1` }],
            }),
          );
        }
        if (j % 6 === 5) {
          // Someone widened the baseline by hand: flagged, never removed.
          await clients.iam.send(
            new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'base', PolicyDocument: JSON.stringify(doc('*')) }),
          );
        }
        return r.roleName;
      }),
    );
    names.push(...created);
  }
  return names;
}

export interface RoleIam {
  readonly inline: Record<string, string>;
  readonly managed: Record<string, string>;
  readonly tags: Record<string, string>;
}

/** What IAM holds for every governed role (documents canonical, so encoding and key order do not matter). */
export async function iamState(clients: AwsClients): Promise<Record<string, RoleIam>> {
  const out: Record<string, RoleIam> = {};
  const roles = (await clients.iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? [];
  for (const r of roles) {
    const tagList = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName! }))).Tags ?? [];
    const tags = Object.fromEntries(tagList.map(t => [t.Key!, t.Value!]).sort());
    if (tags[TAG_MANAGED_BY] !== MANAGED_BY_VALUE) continue;
    const inline: Record<string, string> = {};
    for (const name of ((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName! }))).PolicyNames ?? []).sort()) {
      const d = (await clients.iam.send(new GetRolePolicyCommand({ RoleName: r.RoleName!, PolicyName: name }))).PolicyDocument!;
      inline[name] = canonicalPolicyJson(JSON.parse(decodeURIComponent(d)));
    }
    const managed: Record<string, string> = {};
    for (const a of (await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName! }))).AttachedPolicies ?? []) {
      const pol = (await clients.iam.send(new GetPolicyCommand({ PolicyArn: a.PolicyArn! }))).Policy!;
      const v = await clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: a.PolicyArn!, VersionId: pol.DefaultVersionId! }));
      managed[a.PolicyName!] = canonicalPolicyJson(JSON.parse(decodeURIComponent(v.PolicyVersion!.Document!)));
    }
    out[r.RoleName!] = { inline, managed, tags };
  }
  return out;
}

export interface LedgerView {
  /** role -> decisions in chain order, `decision:grant`. */
  readonly decisions: Record<string, string[]>;
  /** role -> grant memory (as the STATE item holds it). */
  readonly memory: Record<string, unknown>;
  /** role -> chain problems (empty when the chain verifies). */
  readonly chainProblems: Record<string, string[]>;
  /** role -> records. */
  readonly records: Record<string, LedgerRecord[]>;
}

export async function ledgerView(clients: AwsClients, table: string, roleNames: readonly string[]): Promise<LedgerView> {
  const state = await readLedgerState(clients.ddb, table);
  const decisions: Record<string, string[]> = {};
  const memory: Record<string, unknown> = {};
  const chainProblems: Record<string, string[]> = {};
  const records: Record<string, LedgerRecord[]> = {};
  for (const roleName of roleNames) {
    const recs = await readRecords(clients.ddb, table, roleName);
    records[roleName] = recs;
    decisions[roleName] = recs.map(r => `${r.decision}:${r.grant ?? ''}`);
    const s = state.get(roleName);
    memory[roleName] = s ? { grants: s.grants, baselineFlags: s.baselineFlags ?? {}, specError: s.specError } : undefined;
    chainProblems[roleName] = verifyChain(recs, s).map(p => `${p.seq} ${p.code}`);
  }
  return { decisions, memory, chainProblems, records };
}

/** The outcome of a sweep that two runs must agree on. */
export async function outcome(clients: AwsClients, table: string) {
  const iam = await iamState(clients);
  const ledger = await ledgerView(clients, table, Object.keys(iam));
  return { iam, decisions: ledger.decisions, memory: ledger.memory, chainProblems: ledger.chainProblems, records: ledger.records };
}

/** Decisions with errors left out (a faulted run may record errors that a later run repairs). */
export function withoutErrors(decisions: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(decisions).map(([k, v]) => [k, v.filter(d => !d.startsWith('error:'))]));
}

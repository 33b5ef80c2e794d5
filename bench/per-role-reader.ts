/**
 * The reference the benchmark holds our reader against: a per-resource reader
 * as tools that list per role do it (Cloud Custodian's iam-role resource):
 * ListRoles, then for every role ListRoleTags, ListRolePolicies, GetRolePolicy
 * per inline policy and ListAttachedRolePolicies (GetPolicy + GetPolicyVersion
 * per customer-managed attachment). It returns the same snapshot shape as
 * `readSnapshot`, so the same decision and the same writes follow from it.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  Role,
  Tag,
} from '@aws-sdk/client-iam';
import { TAG_AGENT, TAG_MANAGED_BY, TAG_OWNER } from '../lib/contract';
import {
  AccountSnapshot,
  decodeDocument,
  ForeignMarkedRole,
  GovernedRole,
  isGovernedPath,
  policyNameOfArn,
  RolePolicy,
} from '../lib/sweeper/snapshot';
import { mapWithConcurrency } from './bounded-concurrency';

export interface PerRoleReaderOptions {
  /** Roles read at once (Custodian reads with a small thread pool). @default 4 */
  readonly concurrency?: number;
}

async function allPages<P extends { IsTruncated?: boolean; Marker?: string }, T>(
  fetch: (marker: string | undefined) => Promise<P>,
  items: (page: P) => T[] | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  do {
    const page = await fetch(marker);
    out.push(...(items(page) ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return out;
}

/** Reads every governed role with per-role calls. */
export async function readSnapshotPerRole(iam: IAMClient, options: PerRoleReaderOptions = {}): Promise<AccountSnapshot> {
  const all: Role[] = await allPages(
    m => iam.send(new ListRolesCommand({ Marker: m, MaxItems: 1000 })),
    p => p.Roles,
  );
  const foreignMarkers: ForeignMarkedRole[] = [];
  const read = await mapWithConcurrency(all, options.concurrency ?? 4, async (r): Promise<GovernedRole | undefined> => {
    const roleName = r.RoleName!;
    const rawTags: Tag[] = await allPages(
      m => iam.send(new ListRoleTagsCommand({ RoleName: roleName, Marker: m })),
      p => p.Tags,
    );
    const tags: Record<string, string> = {};
    for (const t of rawTags) if (t.Key) tags[t.Key] = t.Value ?? '';
    // Custodian reads every role's policies before filtering; filtering on the path first is the generous reading of it.
    if (!isGovernedPath(r.Path)) {
      if (tags[TAG_MANAGED_BY] !== undefined || tags[TAG_AGENT] !== undefined) {
        foreignMarkers.push({ roleName, arn: r.Arn ?? '', path: r.Path ?? '/', tags });
      }
      return undefined;
    }
    const policies: RolePolicy[] = [];
    const names = await allPages(
      m => iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: m })),
      p => p.PolicyNames,
    );
    for (const name of names) {
      const p = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      policies.push({ kind: 'inline', name, document: decodeDocument(p.PolicyDocument) });
    }
    const attached = await allPages(
      m => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: m })),
      p => p.AttachedPolicies,
    );
    for (const a of attached) {
      if (!a.PolicyArn) continue;
      let document: string | undefined;
      let defaultVersionId: string | undefined;
      if (!a.PolicyArn.startsWith('arn:aws:iam::aws:')) {
        defaultVersionId = (await iam.send(new GetPolicyCommand({ PolicyArn: a.PolicyArn }))).Policy?.DefaultVersionId;
        if (defaultVersionId) {
          document = decodeDocument(
            (await iam.send(new GetPolicyVersionCommand({ PolicyArn: a.PolicyArn, VersionId: defaultVersionId }))).PolicyVersion?.Document,
          );
        }
      }
      policies.push({ kind: 'managed', name: policyNameOfArn(a.PolicyArn), arn: a.PolicyArn, document, defaultVersionId });
    }
    policies.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    return { roleName, arn: r.Arn ?? '', agentId: tags[TAG_AGENT], owner: tags[TAG_OWNER], tags, policies };
  });
  const roles = read.filter((r): r is GovernedRole => r !== undefined);
  roles.sort((a, b) => a.roleName.localeCompare(b.roleName));
  foreignMarkers.sort((a, b) => a.roleName.localeCompare(b.roleName));
  return { roles, foreignMarkers };
}

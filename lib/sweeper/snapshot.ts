/**
 * Read: one snapshot of the governed roles in the account, with as few calls
 * as IAM allows (GetAccountAuthorizationDetails, page by page), plus a
 * per-role read used only to re-decide one role after a ledger conflict and by
 * the CLI.
 */
import {
  GetAccountAuthorizationDetailsCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  ListAttachedRolePoliciesCommandOutput,
  ListRolePoliciesCommandOutput,
  ListRolesCommand,
  RoleDetail,
  Tag,
} from '@aws-sdk/client-iam';
import { isNoSuchEntity } from './errors';
import { GOVERNED_ROLE_PATH, TAG_AGENT, TAG_MANAGED_BY, TAG_OWNER } from '../contract';

/** A policy on a governed role. */
export interface RolePolicy {
  readonly kind: 'inline' | 'managed';
  /** Inline: the policy name. Managed: the last segment of the ARN. */
  readonly name: string;
  readonly arn?: string;
  /** The decoded JSON document (managed: default version); absent for AWS-managed policies. */
  readonly document?: string;
  /** Managed, customer-managed: the default version id. */
  readonly defaultVersionId?: string;
}

export interface GovernedRole {
  readonly roleName: string;
  readonly arn: string;
  readonly agentId?: string;
  readonly owner?: string;
  readonly tags: { readonly [key: string]: string };
  readonly policies: readonly RolePolicy[];
}

/**
 * A role outside the governed path that carries the managed-by marker. Never
 * changed: tags can be put on any role by whoever may tag it, so they only
 * report a claim; the sweep records the claim (once per distinct tag set).
 */
export interface ForeignMarkedRole {
  readonly roleName: string;
  readonly arn: string;
  /** The role's IAM path, e.g. `/`. */
  readonly path: string;
  readonly tags: { readonly [key: string]: string };
}

export interface AccountSnapshot {
  /** Roles under GOVERNED_ROLE_PATH, whatever their tags say. */
  readonly roles: readonly GovernedRole[];
  /** Roles outside the path that carry governance tags. @default none */
  readonly foreignMarkers?: readonly ForeignMarkedRole[];
}

/** IAM returns documents URL-encoded (RFC 3986); the SDK does not decode them. */
export function decodeDocument(doc: string | undefined): string | undefined {
  if (doc === undefined) return undefined;
  try {
    return decodeURIComponent(doc);
  } catch {
    return doc; // already decoded
  }
}

export function policyNameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function tagMap(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
}

/**
 * Governance is anchored on the role's IAM path: fixed when the role is
 * created and part of its ARN, so nobody can take a role out of governance
 * (untagging it) or pull one in (tagging it) afterwards.
 */
export function isGovernedPath(path: string | undefined): boolean {
  return path !== undefined && path.startsWith(GOVERNED_ROLE_PATH);
}

/** True when the tags claim governance (the managed-by marker, whatever its value, or an agent tag). */
function carriesMarker(tags: Record<string, string>): boolean {
  return tags[TAG_MANAGED_BY] !== undefined || tags[TAG_AGENT] !== undefined;
}

/** The most entries IAM returns in one GetAccountAuthorizationDetails page. */
export const GAAD_MAX_ITEMS = 1000;

/** Reads every governed role: one paginated GetAccountAuthorizationDetails (roles + customer-managed policies). */
export async function readSnapshot(iam: IAMClient): Promise<AccountSnapshot> {
  const rawRoles: RoleDetail[] = [];
  const managedDocs = new Map<string, { document?: string; defaultVersionId?: string }>();
  let marker: string | undefined;
  // Always follow Marker/IsTruncated: real IAM pages, 100 entries by default and at most 1,000 with MaxItems
  // (moto 5.2.1 ignores MaxItems and returns everything in one page).
  do {
    const page = await iam.send(
      new GetAccountAuthorizationDetailsCommand({ Filter: ['Role', 'LocalManagedPolicy'], Marker: marker, MaxItems: GAAD_MAX_ITEMS }),
    );
    rawRoles.push(...(page.RoleDetailList ?? []));
    for (const p of page.Policies ?? []) {
      if (!p.Arn) continue;
      // moto's entries here lack PolicyName: everything is keyed by ARN.
      const def =
        (p.PolicyVersionList ?? []).find(v => v.IsDefaultVersion) ??
        (p.PolicyVersionList ?? []).find(v => v.VersionId === p.DefaultVersionId);
      managedDocs.set(p.Arn, { document: decodeDocument(def?.Document), defaultVersionId: p.DefaultVersionId ?? def?.VersionId });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const roles: GovernedRole[] = [];
  const foreignMarkers: ForeignMarkedRole[] = [];
  for (const r of rawRoles) {
    if (!r.RoleName) continue;
    const tags = tagMap(r.Tags);
    if (!isGovernedPath(r.Path)) {
      if (carriesMarker(tags)) foreignMarkers.push({ roleName: r.RoleName, arn: r.Arn ?? '', path: r.Path ?? '/', tags });
      continue;
    }
    const policies: RolePolicy[] = [];
    for (const p of r.RolePolicyList ?? []) {
      if (p.PolicyName) policies.push({ kind: 'inline', name: p.PolicyName, document: decodeDocument(p.PolicyDocument) });
    }
    for (const a of r.AttachedManagedPolicies ?? []) {
      if (!a.PolicyArn) continue;
      const m = managedDocs.get(a.PolicyArn);
      policies.push({
        kind: 'managed',
        name: policyNameOfArn(a.PolicyArn),
        arn: a.PolicyArn,
        document: m?.document,
        defaultVersionId: m?.defaultVersionId,
      });
    }
    roles.push(roleOf(r.RoleName, r.Arn ?? '', tags, policies));
  }
  roles.sort((a, b) => a.roleName.localeCompare(b.roleName));
  foreignMarkers.sort((a, b) => a.roleName.localeCompare(b.roleName));
  return { roles, foreignMarkers };
}

function roleOf(roleName: string, arn: string, tags: Record<string, string>, policies: RolePolicy[]): GovernedRole {
  policies.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  return { roleName, arn, agentId: tags[TAG_AGENT], owner: tags[TAG_OWNER], tags, policies };
}

/** Reads one role with per-role calls; undefined when it does not exist or is not governed. */
export async function readRole(iam: IAMClient, roleName: string): Promise<GovernedRole | undefined> {
  let role;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (e) {
    if (isNoSuchEntity(e)) return undefined;
    throw e;
  }
  if (!role || !isGovernedPath(role.Path)) return undefined;
  const rawTags: Tag[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRoleTagsCommand({ RoleName: roleName, Marker: marker }));
    rawTags.push(...(page.Tags ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const tags = tagMap(rawTags);
  const policies: RolePolicy[] = [];
  marker = undefined;
  do {
    const page: ListRolePoliciesCommandOutput = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    for (const name of page.PolicyNames ?? []) {
      try {
        const p = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        policies.push({ kind: 'inline', name, document: decodeDocument(p.PolicyDocument) });
      } catch (e) {
        if (!isNoSuchEntity(e)) throw e; // removed between list and get (a concurrent sweep): it is gone
      }
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  marker = undefined;
  do {
    const page: ListAttachedRolePoliciesCommandOutput = await iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }),
    );
    for (const a of page.AttachedPolicies ?? []) {
      if (!a.PolicyArn) continue;
      let document: string | undefined;
      let defaultVersionId: string | undefined;
      if (!a.PolicyArn.startsWith('arn:aws:iam::aws:')) {
        try {
          const pol = (await iam.send(new GetPolicyCommand({ PolicyArn: a.PolicyArn }))).Policy;
          defaultVersionId = pol?.DefaultVersionId;
          if (defaultVersionId) {
            const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: a.PolicyArn, VersionId: defaultVersionId }));
            document = decodeDocument(v.PolicyVersion?.Document);
          }
        } catch (e) {
          if (!isNoSuchEntity(e)) throw e;
          continue;
        }
      }
      policies.push({ kind: 'managed', name: policyNameOfArn(a.PolicyArn), arn: a.PolicyArn, document, defaultVersionId });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return roleOf(roleName, role.Arn ?? '', tags, policies);
}

/** Finds a governed role by name, or by agent id (the governance:agent tag of a role under the governed path). */
export async function resolveRoleName(iam: IAMClient, roleOrAgent: string): Promise<string | undefined> {
  // Only governed roles are listed (by their path): a GetRole on the bare name would ask for a role outside the
  // path, which the people's grants (rightly) cannot read, and AWS answers AccessDenied rather than NoSuchEntity.
  const byTag: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ Marker: marker, PathPrefix: GOVERNED_ROLE_PATH }));
    for (const r of page.Roles ?? []) {
      if (!r.RoleName || !isGovernedPath(r.Path)) continue;
      if (r.RoleName === roleOrAgent) return r.RoleName;
      byTag.push(r.RoleName);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  for (const roleName of byTag) {
    const tags = tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags);
    if (tags[TAG_AGENT] === roleOrAgent) return roleName;
  }
  return undefined;
}

/**
 * Spec errors and spec lookups: which approved spec a role is held against
 * (or why none can be), and what the spec says about one policy.
 */
import { AgentSpec, GrantMemory, PolicyDocumentJson, SpecPolicy, specParameterName } from '../../contract';
import { GovernedRole, RolePolicy } from '../snapshot';
import { SpecIndex, SpecLookup } from '../specs';

/**
 * The spec lookup for a role: by its agent tag, checked against its name; when
 * the tag is missing or names another agent's spec, the spec whose roleName is
 * this role's (the path makes the role governed, the spec says as what).
 */
export function specLookupOf(role: GovernedRole, specs: SpecIndex): SpecLookup {
  const tagged = role.agentId !== undefined ? specs.get(role.agentId) : undefined;
  if (tagged?.spec && tagged.spec.roleName === role.roleName) return tagged;
  if (tagged?.error) return tagged;
  for (const found of specs.values()) if (found.spec && found.spec.roleName === role.roleName) return found;
  if (!role.agentId) {
    const message = `role ${role.roleName} has no governance:agent tag and no approved spec names it: deploy its agent's stack`;
    return { error: { code: 'NO_AGENT_TAG', message } };
  }
  if (!tagged) {
    const message = `no approved spec for agent ${role.agentId} (parameter ${specParameterName(role.agentId)}): deploy the agent's stack`;
    return { error: { code: 'SPEC_MISSING', message } };
  }
  const message = `approved spec of agent ${role.agentId} names role ${tagged.spec!.roleName}, not ${role.roleName}`;
  return { error: { code: 'SPEC_ROLE_MISMATCH', message } };
}

export function isBaseline(spec: AgentSpec, p: RolePolicy): SpecPolicy | undefined {
  for (const b of spec.baseline) if (b.kind === p.kind && (p.kind === 'managed' && b.arn ? b.arn === p.arn : b.name === p.name)) return b;
  return undefined;
}

export type SpecGrant = AgentSpec['grants'][number];

export function specGrantOf(spec: AgentSpec, grant: string): SpecGrant | undefined {
  for (const g of spec.grants) if (g.name === grant) return g;
  return undefined;
}

/** True when `p` is one of the approved spec's baseline policies. */
export function isBaselinePolicy(lookup: SpecLookup, p: RolePolicy): boolean {
  return lookup.spec !== undefined && isBaseline(lookup.spec, p) !== undefined;
}
/*
 * A spec document's JSON text, once per spec object (every role of an agent
 * holds its baseline against the same one); the entry goes with the spec index.
 */
const specTextMemo = new WeakMap<object, string>();

/** JSON.stringify of an approved spec's policy document (the text a deploy writes). */
export function specDocumentText(doc: PolicyDocumentJson): string {
  let text = specTextMemo.get(doc);
  if (text === undefined) {
    text = JSON.stringify(doc);
    specTextMemo.set(doc, text);
  }
  return text;
}

/**
 * The approved spec's expiry of a grant, unless the ledger recorded the grant
 * shortened from exactly that expiry (then the shorter recorded one holds
 * until a deploy approves another expiry).
 */
export function specExpiryOf(specGrant: SpecGrant | undefined, mem: GrantMemory | undefined): string | undefined {
  const expiry = specGrant?.expiresAt;
  return expiry !== undefined && mem?.status === 'active' && mem.shortenedFrom === expiry ? undefined : expiry;
}

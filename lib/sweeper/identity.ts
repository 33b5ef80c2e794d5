/**
 * Who a person is. The identity recorded for a request, a renewal or a restore
 * is the caller's AWS identity as STS GetCallerIdentity returns it, never a
 * flag. Two identities are the same person when their `person` keys are equal:
 *
 * - an IAM user: the user's unique id (`AIDA...`), whatever its name;
 * - an assumed role: the role's unique id (`AROA...`, the part of `aws:userid`
 *   before the colon): every session of one role is one person, because the
 *   caller picks the session name. A deployment may name roles whose session
 *   name is set by someone else and names a person (IAM Identity Center) in
 *   PERMISSION_DECAY_SESSION_NAMED_ROLE_IDS: then role id and session together;
 * - a federated user or the account root: the whole `aws:userid`.
 *
 * The key is built from `aws:userid`, the value IAM binds through
 * dynamodb:LeadingKeys, not from the ARN the caller reports about itself.
 */
import { IDENTITY_ENV } from '../contract';

/** The deployment's identity settings. */
export interface IdentityRule {
  /** Role unique ids (AROA...) whose session names name people. */
  readonly sessionNamedRoleIds: readonly string[];
}

export const DEFAULT_IDENTITY_RULE: IdentityRule = { sessionNamedRoleIds: [] };

/** The rule from the environment (the sweeper's and the CLI's). */
export function identityRuleFromEnv(env: NodeJS.ProcessEnv): IdentityRule {
  const raw = env[IDENTITY_ENV.sessionNamedRoleIds] ?? '';
  return {
    sessionNamedRoleIds: raw
      .split(',')
      .map(s => s.trim())
      .filter(s => s.length > 0),
  };
}

/** The person an `aws:userid` belongs to (see the module comment). */
export function personOf(userId: string, rule: IdentityRule = DEFAULT_IDENTITY_RULE): string {
  const colon = userId.indexOf(':');
  if (colon > 0 && /^AROA/.test(userId)) {
    const roleId = userId.slice(0, colon);
    return rule.sessionNamedRoleIds.includes(roleId) ? `session:${userId}` : `role:${roleId}`;
  }
  if (/^AIDA/.test(userId)) return `user:${userId}`;
  return `id:${userId}`;
}

/** The name an identity ARN acts under: the last path segment (user name, or an assumed role's session name). Display only. */
export function identityName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/**
 * Delegation session tags and the name of a delegation grant.
 *
 * An agent that assumes another agent's role must pass these session tags, so
 * every call down a chain is attributable in CloudTrail. The origin is
 * transitive: set on the first hop and inherited, unchangeable, by every later
 * session of the chain. The delegator and the chain are set on every hop (not
 * transitive): a transitive tag cannot be set again later in the chain, so a
 * transitive chain could never grow and a transitive delegator could never
 * name the next hop.
 */

/** Session tag: the agent that started the chain (transitive). */
export const SESSION_TAG_ORIGIN = 'governance:origin-agent';
/** Session tag: the agent making this hop (set on every hop). */
export const SESSION_TAG_DELEGATED_BY = 'governance:delegated-by';
/** Session tag: the agents of the chain so far, origin first, joined by {@link DELEGATION_CHAIN_SEPARATOR} (set on every hop). */
export const SESSION_TAG_CHAIN = 'governance:delegation-chain';
/** Separates agent ids in the chain tag (agent ids never contain it). */
export const DELEGATION_CHAIN_SEPARATOR = '/';
/** Every delegation session tag key. */
export const DELEGATION_SESSION_TAGS = [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN] as const;
/** Session tag keys a delegation marks transitive. */
export const DELEGATION_TRANSITIVE_TAGS = [SESSION_TAG_ORIGIN] as const;
/** Prefix of the grant that carries a time-bound delegation: `delegate-to-<agentId>`. */
export const DELEGATION_GRANT_PREFIX = 'delegate-to-';

/** The name of the grant (inline policy) that carries a time-bound delegation to `toAgentId`. */
export function delegationGrantName(toAgentId: string): string {
  return `${DELEGATION_GRANT_PREFIX}${toAgentId}`;
}

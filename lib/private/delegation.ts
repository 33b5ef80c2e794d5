/**
 * Delegation statements: agent A may assume agent B's role only
 * when it passes the delegation session tags, so every call down a chain is
 * attributable in CloudTrail.
 *
 * Two hops are possible and each has its own statement, on A's identity
 * policy and on B's trust policy alike:
 * - start: A begins a chain. It names itself as origin (marked transitive, and
 *   the only transitive key), delegator and chain.
 * - continue: A is already in a chain (its session carries an inherited
 *   origin). It cannot change the origin; it names itself as delegator and
 *   appends itself to the chain its own session carries.
 * Both statements allow only the delegation tag keys, so a delegator cannot
 * slip in other tags (e.g. one that overrides a role tag).
 *
 * B's trust statement pins A's identity: it names A's account as principal
 * and requires `aws:PrincipalArn` to be A's exact role ARN, never tags (any
 * principal someone tagged like A could otherwise assume B). The ARN is built
 * from A's deterministic role name under the governed path, with no
 * CloudFormation reference: naming A's role as the principal itself would make
 * B's role depend on A's (IAM checks that a principal exists), so a cycle of
 * delegations (A -> B -> A) could not be deployed and a delegation across
 * stacks would make the stacks reference each other. A condition value needs
 * neither. With an account principal, IAM also requires an identity statement
 * allowing the assumption, and only A's role carries one for B.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { governedRoleArn } from './agent-role';
import {
  DELEGATION_CHAIN_SEPARATOR,
  DELEGATION_SESSION_TAGS,
  DELEGATION_TRANSITIVE_TAGS,
  EXPIRY_CONDITION_KEY,
  EXPIRY_CONDITION_OPERATOR,
  SESSION_TAG_CHAIN,
  SESSION_TAG_DELEGATED_BY,
  SESSION_TAG_ORIGIN,
} from '../contract';

/** The STS actions a delegation allows: assuming the role and passing session tags. */
export const DELEGATION_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'];

type Conditions = Record<string, Record<string, unknown>>;

/** Conditions of a hop by `fromAgentId` that begins a chain. */
export function startHopConditions(fromAgentId: string): Conditions {
  return {
    StringEquals: {
      [`aws:RequestTag/${SESSION_TAG_ORIGIN}`]: fromAgentId,
      [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: fromAgentId,
      [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: fromAgentId,
    },
    // The origin must be passed on to every later hop, and nothing else may be: a transitive key cannot be set again.
    'ForAnyValue:StringEquals': { 'sts:TransitiveTagKeys': [...DELEGATION_TRANSITIVE_TAGS] },
    'ForAllValues:StringEquals': { 'sts:TransitiveTagKeys': [...DELEGATION_TRANSITIVE_TAGS], 'aws:TagKeys': [...DELEGATION_SESSION_TAGS] },
    // Not already in a chain: a session that inherited an origin continues the chain instead.
    Null: { [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'true' },
  };
}

/** Conditions of a hop by `fromAgentId` that continues a chain its session is already in. */
export function continueHopConditions(fromAgentId: string): Conditions {
  return {
    StringEquals: {
      [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: fromAgentId,
      // The chain grows by exactly this agent.
      [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: `\${aws:PrincipalTag/${SESSION_TAG_CHAIN}}${DELEGATION_CHAIN_SEPARATOR}${fromAgentId}`,
    },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN] },
    Null: {
      [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'false',
      [`aws:PrincipalTag/${SESSION_TAG_CHAIN}`]: 'false',
      [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: 'false',
      [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: 'false',
    },
  };
}

function withExpiry(conditions: Conditions, expiresAt: string | undefined): Conditions {
  return expiresAt === undefined ? conditions : { ...conditions, [EXPIRY_CONDITION_OPERATOR]: { [EXPIRY_CONDITION_KEY]: expiresAt } };
}

/** A's identity statements for delegating to the role `toRoleArn` (the grant adds the expiry condition itself). */
export function delegationIdentityStatements(fromAgentId: string, toRoleArn: string, sidBase: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: `${sidBase}Start`,
      actions: DELEGATION_ACTIONS,
      resources: [toRoleArn],
      conditions: startHopConditions(fromAgentId),
    }),
    new iam.PolicyStatement({
      sid: `${sidBase}Continue`,
      actions: DELEGATION_ACTIONS,
      resources: [toRoleArn],
      conditions: continueHopConditions(fromAgentId),
    }),
  ];
}

/** B's trust statements for a delegation from the governed agent `fromAgentId` whose role lives in `fromStack`. */
export function delegationTrustStatements(
  fromAgentId: string,
  fromStack: Stack,
  sidBase: string,
  expiresAt?: string,
): iam.PolicyStatement[] {
  const principal = new iam.AccountPrincipal(fromStack.account);
  const delegator = { 'aws:PrincipalArn': governedRoleArn(fromStack, fromAgentId) };
  const make = (sid: string, conditions: Conditions) =>
    new iam.PolicyStatement({
      sid,
      actions: DELEGATION_ACTIONS,
      principals: [principal],
      conditions: withExpiry({ ...conditions, ArnEquals: delegator }, expiresAt),
    });
  return [make(`${sidBase}Start`, startHopConditions(fromAgentId)), make(`${sidBase}Continue`, continueHopConditions(fromAgentId))];
}

/** A statement id stem for a delegation to `toAgentId` (Sids allow letters and digits only). */
export function delegationSid(toAgentId: string): string {
  const alnum = toAgentId.replace(/[^A-Za-z0-9]/g, '');
  // Agent ids differing only in _ . - would share the stem; a short code of the id keeps them apart.
  let h = 0;
  for (const c of toAgentId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `DelegateTo${alnum}${h.toString(36).slice(0, 4)}`;
}

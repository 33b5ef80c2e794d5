/** The approved spec (written at deploy time to SSM Parameter Store) and the synth-time names the construct writes. */
import { ContractError } from './errors';
import { parseExpiry } from './expiry';
import { PolicyDocumentJson } from './policy';

/**
 * SSM parameter path prefix of approved specs. Each agent's spec is the
 * parameter `${SPEC_PARAMETER_PREFIX}<agentId>` (a String parameter, JSON).
 */
export const SPEC_PARAMETER_PREFIX = '/permission-decay/agents/';
export function specParameterName(agentId: string): string {
  return `${SPEC_PARAMETER_PREFIX}${agentId}`;
}
export const SPEC_VERSION = 1;

/** A policy as the spec records it. */
export interface SpecPolicy {
  /** `inline` (a role policy) or `managed` (an attached customer-managed or AWS-managed policy). */
  readonly kind: 'inline' | 'managed';
  /** The policy name (for managed policies, the last segment of the ARN). */
  readonly name: string;
  /** The ARN of a managed policy. */
  readonly arn?: string;
  /** The approved document; absent for AWS-managed policies. */
  readonly document?: PolicyDocumentJson;
}

export interface SpecGrant extends SpecPolicy {
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
  readonly reason: string;
  /** Resource-policy writes the agent's boundary lets through until the grant's expiry (absent: none). */
  readonly allowResourcePolicyWrites?: string[];
}

export interface AgentSpec {
  readonly v: number;
  readonly agentId: string;
  readonly roleName: string;
  readonly owner: string;
  readonly maxGrantDurationSeconds: number;
  readonly maxRenewals: number;
  readonly baseline: SpecPolicy[];
  readonly grants: SpecGrant[];
  /** Delegations this agent may use: role names it may assume. */
  readonly delegations?: { readonly toAgentId: string; readonly expiresAt?: string }[];
  /** The digest the deploy also tagged on the role (TAG_SPEC_DIGEST). @default none (the spec is read every sweep) */
  readonly digest?: string;
}

export const DEFAULT_MAX_GRANT_DURATION_SECONDS = 30 * 24 * 3600;
export const DEFAULT_MAX_RENEWALS = 3;

/** Parses a spec parameter's value; throws a ContractError naming what is wrong. */
export function parseAgentSpec(text: string, source: string): AgentSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ContractError('BAD_SPEC', `spec ${source} is not JSON: ${(e as Error).message}`);
  }
  const spec = raw as AgentSpec;
  if (!spec || typeof spec !== 'object' || spec.v !== SPEC_VERSION) {
    const version = (spec as AgentSpec | null)?.v;
    throw new ContractError('BAD_SPEC', `spec ${source} has version ${version}; this sweeper reads version ${SPEC_VERSION}`);
  }
  for (const field of ['agentId', 'roleName'] as const) {
    if (typeof spec[field] !== 'string' || !spec[field]) throw new ContractError('BAD_SPEC', `spec ${source} has no ${field}`);
  }
  if (!Array.isArray(spec.baseline) || !Array.isArray(spec.grants)) {
    throw new ContractError('BAD_SPEC', `spec ${source} must list baseline and grants`);
  }
  for (const g of spec.grants) parseExpiry(g.expiresAt, `spec ${source} grant ${g.name} expiresAt`);
  return spec;
}

/**
 * CDK context key holding the instant (ISO-8601 with zone) that synth-time
 * checks ("expiry in the past", "beyond maxGrantDuration") treat as now.
 * Absent: the real clock. Lets tests and demos synthesize deterministically.
 */
export const SYNTH_CLOCK_CONTEXT_KEY = 'permission-decay:now';
/** Name of the inline policy that holds a governed role's baseline statements. */
export const BASELINE_POLICY_NAME = 'baseline';

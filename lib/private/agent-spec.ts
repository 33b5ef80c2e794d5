/**
 * The approved spec of a governed agent, computed from the finished tree at
 * synth: its baseline (every policy on the role but the grants), its grants
 * as put on the role, and its delegations. Cached per synthesis, with its
 * estimated deployed length (the parameter's tier and the size check read it).
 */
import { createHash } from 'crypto';
import { Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AgentSpec, PolicyDocumentJson, SPEC_VERSION, SpecGrant, SpecPolicy } from '../contract';
import { AttachedPolicies } from './agent-role';
import { isOwnedManagedPolicy } from './cdk-brands';
import { estimatedJsonLength } from './rendered-size';

/** SSM String parameters: Standard tier holds 4 KB, Advanced 8 KB. */
export const STANDARD_PARAMETER_CHARS = 4096;
export const ADVANCED_PARAMETER_CHARS = 8192;

/** What a grant contributes to the spec. */
export interface SpecGrantSource {
  readonly grantName: string;
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
  readonly reason: string;
  readonly allowedResourcePolicyWrites: string[];
  readonly policy: iam.Policy;
}

/** Everything the spec is computed from (read when the spec is computed, after the tree is built). */
export interface SpecSource {
  readonly agentId: string;
  readonly roleName: string;
  readonly owner: string;
  readonly maxGrantDurationSeconds: number;
  readonly maxRenewals: number;
  readonly attached: AttachedPolicies;
  readonly managedPolicyAttachments: readonly iam.IManagedPolicy[];
  readonly grants: readonly SpecGrantSource[];
  readonly delegations: readonly { readonly toAgentId: string; readonly expiresAt?: string }[];
}

/** The approved spec, with CDK tokens where deploy-time values go. */
export function computeAgentSpec(source: SpecSource): AgentSpec {
  const grantPolicies = new Set<Construct>(source.grants.map(g => g.policy.node.defaultChild!));
  const { inline, managed } = source.attached;
  const baseline: SpecPolicy[] = [
    ...inline
      .filter(p => !grantPolicies.has(p))
      .map((p): SpecPolicy => ({
        kind: 'inline',
        name: p.policyName,
        document: p.policyDocument as PolicyDocumentJson,
      })),
    ...managed.map((p): SpecPolicy => ({
      kind: 'managed',
      name: p.managedPolicyName ?? lastArnSegment(p.ref),
      arn: p.ref,
      document: p.policyDocument as PolicyDocumentJson,
    })),
    ...source.managedPolicyAttachments.map((p): SpecPolicy => ({
      kind: 'managed',
      name: lastArnSegment(p.managedPolicyArn),
      arn: p.managedPolicyArn,
      // Documents of AWS-managed and imported policies are not known at synth.
      ...(isOwnedManagedPolicy(p) ? { document: p.document as unknown as PolicyDocumentJson } : {}),
    })),
  ];
  const grants: SpecGrant[] = source.grants.map(g => ({
    kind: 'inline',
    name: g.grantName,
    // The document exactly as it is put on the role: every statement already carries the expiry condition.
    document: g.policy.document as unknown as PolicyDocumentJson,
    expiresAt: g.expiresAt,
    requestedBy: g.requestedBy,
    ticket: g.ticket,
    reason: g.reason,
    ...(g.allowedResourcePolicyWrites.length > 0 ? { allowResourcePolicyWrites: g.allowedResourcePolicyWrites } : {}),
  }));
  return {
    v: SPEC_VERSION,
    agentId: source.agentId,
    roleName: source.roleName,
    owner: source.owner,
    maxGrantDurationSeconds: source.maxGrantDurationSeconds,
    maxRenewals: source.maxRenewals,
    baseline,
    grants,
    ...(source.delegations.length > 0
      ? {
          delegations: [...source.delegations].sort((x, y) => (x.toAgentId < y.toAgentId ? -1 : 1)),
        }
      : {}),
  };
}

/**
 * The spec and its estimated deployed length, computed once per synthesis:
 * the parameter's value and tier and the validation all read them, and the
 * tree does not change while a synthesis resolves it. Before the first
 * synthesis (generation undefined) nothing is cached: the tree is still being built.
 */
/** `,"digest":"<64 hex>"` in the parameter's JSON. */
const DIGEST_FIELD_CHARS = ',"digest":""'.length + 64;

export class AgentSpecCache {
  private cached?: { generation: number; spec: AgentSpec; length?: number; digest?: string };

  constructor(
    private readonly stack: Stack,
    private readonly generation: () => number | undefined,
    private readonly source: () => SpecSource,
  ) {}

  public spec(): AgentSpec {
    const generation = this.generation();
    if (generation === undefined) return computeAgentSpec(this.source());
    if (this.cached?.generation !== generation) this.cached = { generation, spec: computeAgentSpec(this.source()) };
    return this.cached.spec;
  }

  /**
   * sha256 of the spec as synthesized (before deploy-time values are filled in): the role carries it as a
   * governance tag and the parameter as `digest`, so the sweeper reads SSM only when a role's digest changed.
   */
  public digest(): string {
    const spec = this.spec();
    const compute = () =>
      createHash('sha256')
        .update(JSON.stringify(this.stack.resolve(spec)))
        .digest('hex');
    if (this.cached?.spec !== spec) return compute();
    this.cached.digest ??= compute();
    return this.cached.digest;
  }

  /** The parameter's value: the spec and its digest. */
  public parameterValue(): AgentSpec {
    return { ...this.spec(), digest: this.digest() };
  }

  /**
   * Estimated length of the parameter's JSON once deployed (references replaced by placeholders of their likely
   * length), the digest field included.
   */
  public length(): number {
    const spec = this.spec();
    if (this.cached?.spec !== spec) return estimatedJsonLength(this.stack.resolve(spec)) + DIGEST_FIELD_CHARS;
    this.cached.length ??= estimatedJsonLength(this.stack.resolve(spec)) + DIGEST_FIELD_CHARS;
    return this.cached.length;
  }

  /** The parameter tier the spec needs. */
  public tier(): 'Standard' | 'Advanced' {
    return this.length() < STANDARD_PARAMETER_CHARS ? 'Standard' : 'Advanced';
  }
}

/** The last segment of a policy ARN: the policy name. */
function lastArnSegment(arn: string): string {
  const last = arn.split('/').pop()!;
  return Token.isUnresolved(last) ? Fn.select(1, Fn.split(':policy/', arn)) : last;
}

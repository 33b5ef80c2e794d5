/**
 * A named, time-bound grant of a GovernedAgentRole (public: exported through
 * lib/index.ts). Its agent is imported as a type only: the agent makes its
 * grants, so the runtime import runs one way, agent -> grant.
 */
import { Annotations, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { isWildcardAction } from './analysis/action-catalogue';
import { EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, formatGrantTag, grantTagKey } from './contract';
import { resourcePolicyWriteActions } from './private/agent-boundary';
import { GOVERNANCE_TAG_PRIORITY, GrantPrincipal } from './private/agent-role';
import { grantNameProblems, grantRequestProblems } from './private/grant-rules';
import type { GovernedAgentRole } from './governed-agent-role';

/**
 * What is recorded about a time-bound grant.
 */
export interface TemporaryGrantOptions {
  /** When the grant ends: an absolute UTC instant of the form `2026-12-31T00:00:00Z`. */
  readonly expiresAt: string;

  /** Who asked for the grant (letters, digits and `_ . : / = + - @`; no spaces). */
  readonly requestedBy: string;

  /** The ticket that approved the grant (letters, digits and `_ . : / = + - @`; no spaces). */
  readonly ticket: string;

  /** Why the agent needs the grant (recorded in the approved spec). */
  readonly reason: string;

  /**
   * Statements of the grant. More can be added with `addStatements` or by
   * passing the grant to CDK grant calls.
   * @default - none yet
   */
  readonly statements?: iam.PolicyStatement[];

  /**
   * Compliance regimes this grant may reach although the agent does not
   * declare them (an approval recorded with the grant's ticket).
   * @default - none
   */
  readonly approvedRegimes?: string[];

  /**
   * Resource-policy write actions (e.g. `s3:PutBucketPolicy`,
   * `lambda:AddPermission`) the agent's boundary lets through until the
   * grant's expiry. Every governed role's boundary denies writing resource
   * policies, because access written into one outlives the grant; list here
   * exactly the actions the ticket approved (recorded in the approved spec).
   * Each must be one of the boundary's resource-policy actions. The agent
   * gets a boundary of its own.
   * @default - none: the boundary denies every resource-policy write
   */
  readonly allowResourcePolicyWrites?: string[];
}

/**
 * A named, time-bound grant on a GovernedAgentRole: an inline policy named
 * after the grant whose every statement holds only before `expiresAt`, and an
 * expiry tag on the role that the sweeper reads. Obtain one with
 * `GovernedAgentRole.temporaryGrant()`; pass it as the grantee of CDK grant
 * calls (`table.grantReadData(grant)`).
 */
export class TemporaryGrant extends Construct implements iam.IGrantable {
  /** The grant's name: the inline policy name and the suffix of its tag key. */
  public readonly grantName: string;
  /** When the grant ends. */
  public readonly expiresAt: string;
  /** Who asked for the grant. */
  public readonly requestedBy: string;
  /** The ticket that approved the grant. */
  public readonly ticket: string;
  /** Why the agent needs the grant. */
  public readonly reason: string;
  /** The inline policy that carries the grant's statements. */
  public readonly policy: iam.Policy;
  /** The principal to pass to CDK grant calls. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** Compliance regimes the grant is approved to reach outside the agent's own. */
  public readonly approvedRegimes: string[];
  /** Resource-policy write actions the agent's boundary allows until the grant's expiry. */
  public readonly allowedResourcePolicyWrites: string[];
  private readonly agent: GovernedAgentRole;

  /**
   * Use `GovernedAgentRole.temporaryGrant()`.
   */
  constructor(agent: GovernedAgentRole, name: string, options: TemporaryGrantOptions) {
    super(agent._grantScope(), checkedGrantName(agent, name));
    this.agent = agent;
    this.grantName = name;
    this.expiresAt = options.expiresAt;
    this.requestedBy = options.requestedBy;
    this.ticket = options.ticket;
    this.reason = options.reason;
    this.approvedRegimes = [...(options.approvedRegimes ?? [])];

    const problems = grantRequestProblems({ name, ...options }, agent._synthClock(), agent.maxGrantDurationSeconds);
    const writes = resourcePolicyWriteActions(options.allowResourcePolicyWrites ?? []);
    if (writes.unknown.length > 0) {
      problems.push(
        `allowResourcePolicyWrites ${writes.unknown.join(', ')}: not a resource-policy write the boundary denies; ` +
          'name exact actions such as s3:PutBucketPolicy (no wildcards)',
      );
    }
    if (problems.length > 0) throw new Error(agent._grantError(name, problems));
    this.allowedResourcePolicyWrites = writes.known;

    this.policy = new iam.Policy(this, 'Policy', { policyName: name });
    agent.role.attachInlinePolicy(this.policy);
    Tags.of(agent.role).add(grantTagKey(name), formatGrantTag(options), { priority: GOVERNANCE_TAG_PRIORITY });
    this.grantPrincipal = new GrantPrincipal(agent.role, this.expiresAt, statement => this.addStatement(statement));
    this.addStatements(...(options.statements ?? []));
    if (this.allowedResourcePolicyWrites.length > 0) {
      agent._allowResourcePolicyWrites({ grantName: name, actions: this.allowedResourcePolicyWrites, expiresAt: this.expiresAt });
    }
  }

  /**
   * Adds statements to the grant. Each is copied with the expiry condition
   * (`DateLessThan` on `aws:CurrentTime`) merged into its conditions.
   */
  public addStatements(...statements: iam.PolicyStatement[]): void {
    for (const statement of statements) this.addStatement(statement);
  }

  private addStatement(statement: iam.PolicyStatement): IDependable {
    this.agent._checkActions(statement, `grant '${this.grantName}'`);
    const wildcards = [...statement.actions, ...statement.notActions].filter(a => !Token.isUnresolved(a) && isWildcardAction(a));
    if (wildcards.length > 0 || statement.notActions.length > 0) {
      const what = wildcards.length > 0 ? `wildcard actions ${wildcards.join(', ')}` : 'NotAction';
      Annotations.of(this.agent).addWarningV2(
        'permission-decay:grant-wildcard-action',
        `agent '${this.agent.agentId}' grant '${this.grantName}': ${what} may allow more than the ticket approved: ` +
          'list the actions the agent needs',
      );
    }
    const bound = statement.copy();
    bound.addCondition(EXPIRY_CONDITION_OPERATOR, { [EXPIRY_CONDITION_KEY]: this.expiresAt });
    this.policy.addStatements(bound);
    return this.policy;
  }
}

function checkedGrantName(agent: GovernedAgentRole, name: string): string {
  const problems = grantNameProblems(name);
  const clash = agent.grants.find(g => g.grantName.toLowerCase() === name?.toLowerCase());
  if (clash) {
    problems.push(
      clash.grantName === name
        ? 'the agent already has a grant of this name: add statements to that grant or choose another name'
        : `IAM tag keys ignore case, so this name clashes with grant '${clash.grantName}': choose another name`,
    );
  }
  if (problems.length > 0) throw new Error(agent._grantError(name, problems));
  return name;
}

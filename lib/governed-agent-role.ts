import { Annotations, Duration, Fn, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IDependable } from 'constructs';
import { unknownActionReason, isWildcardAction } from './private/action-catalogue';
import {
  deniedResourcePolicyWrites, optInEndStatement, ownBoundary, ResourcePolicyOptIn, resourcePolicyWriteActions, sharedBoundary,
} from './private/agent-boundary';
import { AgentRole, AttachedPolicies, governedRoleArn, governedRoleName, GrantPrincipal, StackPolicyIndex } from './private/agent-role';
import { AgentModel, AnalysedStatement, DelegationModel } from './private/analysis/model';
import {
  AgentSpec, BASELINE_POLICY_NAME, DEFAULT_MAX_GRANT_DURATION_SECONDS, delegationGrantName, DEFAULT_MAX_RENEWALS, EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR,
  formatGrantTag, GOVERNED_ROLE_PATH, grantTagKey, IAM_LIMITS, MANAGED_BY_VALUE, normalizeInstant, parseExpiry, PolicyDocumentJson,
  SPEC_VERSION, SpecGrant, SpecPolicy, specParameterName, SYNTH_CLOCK_CONTEXT_KEY, TAG_AGENT, TAG_MANAGED_BY, TAG_OWNER,
} from './private/contract';
import { delegationIdentityStatements, delegationSid, delegationTrustStatements } from './private/delegation';
import { analysedStatements, StatementOrigin, StoreLinker } from './private/governance-model';
import { GovernanceReportEmitter } from './private/governance-report-emitter';
import { grantNameProblems, grantRequestProblems, tagValueProblems } from './private/grant-rules';
import { estimatedJsonLength, estimatedPolicySize } from './private/rendered-size';

/** SSM String parameters: Standard tier holds 4 KB, Advanced 8 KB. */
const STANDARD_PARAMETER_CHARS = 4096;
const ADVANCED_PARAMETER_CHARS = 8192;
/** Governance tags win over tags of the same key applied to a whole app or stack. */
const GOVERNANCE_TAG_PRIORITY = 1000;
/** Agent ids become part of an SSM parameter name and a tag value. */
const AGENT_ID_CHARS = /^[A-Za-z0-9_.\-]{1,128}$/;

/**
 * Properties of a GovernedAgentRole.
 */
export interface GovernedAgentRoleProps {
  /**
   * The agent's id: tagged on the role and naming its approved spec
   * (`/permission-decay/agents/<agentId>`). Letters, digits, `_ . -`; unique per stack.
   */
  readonly agentId: string;

  /** A contact for the agent's owner (tagged on the role; warnings about expiring grants go here). */
  readonly owner: string;

  /** Who may assume the agent's role. */
  readonly assumedBy: iam.IPrincipal;

  /**
   * Statements the agent always holds (the `baseline` inline policy). CDK grant
   * calls made with the agent as grantee add to the same policy.
   * @default - no statements besides those added by grant calls
   */
  readonly baseline?: iam.PolicyStatement[];

  /**
   * The longest a time-bound grant may run, counted from synth time.
   * @default Duration.days(30)
   */
  readonly maxGrantDuration?: Duration;

  /**
   * How often the sweeper may renew one grant.
   * @default 3
   */
  readonly maxRenewals?: number;

  /**
   * The most any policy on the role can allow, even one added by hand: the
   * Allow statements of the role's permissions boundary. The boundary's
   * denies that protect governance apply in any case.
   * @default - Allow `*` on `*` (only the governance denies limit the agent)
   */
  readonly ceiling?: iam.PolicyStatement[];

  /**
   * A description of the role.
   * @default - "permission-decay agent <agentId>"
   */
  readonly description?: string;

  /**
   * Compliance regimes (e.g. `pci`) of the data stores the agent may touch.
   * A baseline statement or grant that reaches a store of another regime (see
   * `Compliance.of(store).regime(...)`) fails synth unless the grant approves
   * that regime.
   * @default - none: the agent may touch no store that has a regime
   */
  readonly complianceRegimes?: string[];

  /**
   * The account's shared boundary, when governance was deployed to the account
   * by a `GovernedOrganization` (`GovernedOrganization.memberBoundary(scope)`):
   * the role uses it, and this stack deploys no boundary and needs no sweeper of
   * its own (the account's sweeper governs every role under the governed path).
   * An agent with a `ceiling` or a resource-policy opt-in still gets a boundary of its own.
   * @default - a boundary shared by the governed roles of this stack, made in it
   */
  readonly sharedBoundary?: iam.IManagedPolicy;
}

/**
 * How an agent may delegate to another. Without `expiresAt` the delegation
 * is part of the delegating agent's baseline; with it, it is a time-bound
 * grant named `delegate-to-<agentId>` that the sweeper revokes at expiry.
 */
export interface DelegationOptions {
  /**
   * When the delegation ends: an absolute UTC instant of the form `2026-12-31T00:00:00Z`.
   * @default - no expiry: the delegation is part of the baseline
   */
  readonly expiresAt?: string;

  /**
   * Who asked for the delegation (required with `expiresAt`).
   * @default - none
   */
  readonly requestedBy?: string;

  /**
   * The ticket that approved the delegation (required with `expiresAt`).
   * @default - none
   */
  readonly ticket?: string;

  /**
   * Why the agent needs the delegation (required with `expiresAt`).
   * @default - none
   */
  readonly reason?: string;

  /**
   * Compliance regimes the delegating agent may reach through the other agent
   * although they are not among its own `complianceRegimes`.
   * @default - none: reaching a store of another regime through the delegation fails synth
   */
  readonly approvedRegimes?: string[];
}

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
    this.approvedRegimes = [...options.approvedRegimes ?? []];

    const problems = grantRequestProblems({ name, ...options }, agent._synthClock(), agent.maxGrantDurationSeconds);
    const writes = resourcePolicyWriteActions(options.allowResourcePolicyWrites ?? []);
    if (writes.unknown.length > 0) {
      problems.push(`allowResourcePolicyWrites ${writes.unknown.join(', ')}: not a resource-policy write the boundary denies; `
        + 'name exact actions such as s3:PutBucketPolicy (no wildcards)');
    }
    if (problems.length > 0) throw new Error(agent._grantError(name, problems));
    this.allowedResourcePolicyWrites = writes.known;

    this.policy = new iam.Policy(this, 'Policy', { policyName: name });
    agent.role.attachInlinePolicy(this.policy);
    Tags.of(agent.role).add(grantTagKey(name), formatGrantTag(options), { priority: GOVERNANCE_TAG_PRIORITY });
    this.grantPrincipal = new GrantPrincipal(agent.role, this.expiresAt, statement => this.addStatement(statement));
    this.addStatements(...options.statements ?? []);
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
      Annotations.of(this.agent).addWarningV2('permission-decay:grant-wildcard-action',
        `agent '${this.agent.agentId}' grant '${this.grantName}': ${wildcards.length > 0 ? `wildcard actions ${wildcards.join(', ')}` : 'NotAction'} `
        + 'may allow more than the ticket approved: list the actions the agent needs');
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
    problems.push(clash.grantName === name
      ? 'the agent already has a grant of this name: add statements to that grant or choose another name'
      : `IAM tag keys ignore case, so this name clashes with grant '${clash.grantName}': choose another name`);
  }
  if (problems.length > 0) throw new Error(agent._grantError(name, problems));
  return name;
}

/**
 * An IAM role for an AI agent with permission decay: a fixed baseline, plus
 * named time-bound grants that stop working at their expiry and that the
 * sweeper revokes. The role gets a permissions boundary that keeps the agent
 * from changing its own governance, and its approved spec is recorded in SSM
 * Parameter Store at deploy time.
 *
 * Synth-time checks that depend on the time read the CDK context key
 * `permission-decay:now` (an ISO-8601 instant), or the real clock without it.
 */
export class GovernedAgentRole extends Construct implements iam.IGrantable {
  /** The CDK context key holding the instant synth-time checks treat as now. */
  public static readonly CLOCK_CONTEXT_KEY: string = SYNTH_CLOCK_CONTEXT_KEY;

  /** The agent's role. */
  public readonly role: iam.Role;
  /** The agent's id. */
  public readonly agentId: string;
  /** The agent owner's contact. */
  public readonly owner: string;
  /** Name of the SSM parameter holding the approved spec. */
  public readonly specParameterName: string;
  /** The longest a grant may run, in seconds. */
  public readonly maxGrantDurationSeconds: number;
  /** How often the sweeper may renew one grant. */
  public readonly maxRenewals: number;
  /** Principal for CDK grant calls; what it is granted joins the baseline. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** Compliance regimes of the stores the agent may touch. */
  public readonly complianceRegimes: string[];
  private readonly delegations: { to: GovernedAgentRole; sid: string; grant?: TemporaryGrant; approvedRegimes: string[] }[] = [];
  private readonly agentRole: AgentRole;
  private readonly grantContainer: Construct;
  private readonly ceiling?: iam.PolicyStatement[];
  private currentBoundary: iam.IManagedPolicy;
  private ownBoundary?: iam.ManagedPolicy;
  private readonly resourcePolicyOptIns: ResourcePolicyOptIn[] = [];
  private clock?: Date;
  /** Finds the policies attached to the role, once per synthesis for the whole stack. */
  private readonly policyIndex: StackPolicyIndex;
  /** The spec as computed in the synthesis (index generation) it was computed in. */
  private specCache?: { generation: number; spec: AgentSpec };

  constructor(scope: Construct, id: string, props: GovernedAgentRoleProps) {
    super(scope, id);
    this.agentId = props.agentId;
    this.owner = props.owner;
    this.maxGrantDurationSeconds = props.maxGrantDuration?.toSeconds() ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
    this.maxRenewals = props.maxRenewals ?? DEFAULT_MAX_RENEWALS;
    this.complianceRegimes = [...props.complianceRegimes ?? []];
    // Registered before the checks, as the construct is in the tree from here on even when they throw.
    agentsOfStack(Stack.of(this), this.agentId).push(this);
    this.checkProps(props);
    this.specParameterName = specParameterName(this.agentId);

    this.ceiling = props.ceiling;
    this.currentBoundary = props.ceiling ? this.makeOwnBoundary() : props.sharedBoundary ?? sharedBoundary(this);
    // The path is the anchor of governance (boundaries, the sweeper's key policy); the deterministic
    // name lets delegation trust policies pin this role's exact ARN without a reference.
    this.agentRole = new AgentRole(this, 'Role', {
      assumedBy: props.assumedBy,
      description: props.description ?? `permission-decay agent ${this.agentId}`,
      permissionsBoundary: this.currentBoundary,
      path: GOVERNED_ROLE_PATH,
      roleName: governedRoleName(this.agentId, Stack.of(this).region),
    }, statement => this._checkActions(statement, 'baseline'));
    this.role = this.agentRole;
    this.grantPrincipal = this.agentRole;
    this.grantContainer = new Construct(this, 'Grants');

    for (const [key, value] of [[TAG_MANAGED_BY, MANAGED_BY_VALUE], [TAG_AGENT, this.agentId], [TAG_OWNER, this.owner]]) {
      Tags.of(this.role).add(key, value, { priority: GOVERNANCE_TAG_PRIORITY });
    }
    this.addToBaseline(...props.baseline ?? []);
    props.ceiling?.forEach(statement => this._checkActions(statement, 'ceiling'));

    const stack = Stack.of(this);
    this.policyIndex = StackPolicyIndex.of(stack);
    new ssm.CfnParameter(this, 'Spec', {
      name: this.specParameterName,
      type: 'String',
      description: `permission-decay approved spec of agent ${this.agentId}`,
      value: Lazy.string({ produce: () => stack.toJsonString(this.spec()) }),
      tier: Lazy.string({ produce: () => (this.estimatedSpecLength() < STANDARD_PARAMETER_CHARS ? 'Standard' : 'Advanced') }),
    });
    this.node.addValidation({ validate: () => this.validateRole() });
    // The governance report (shadow, compliance, store inventory) covers every agent of the app.
    GovernanceReportEmitter.of(this).register(this);
  }

  /** The role's permissions boundary (one of its own once it has a ceiling or a grant opts in to resource-policy writes). */
  public get boundary(): iam.IManagedPolicy {
    return this.currentBoundary;
  }

  /**
   * The exact ARN of the agent's role, known at synth without a reference to the role.
   * @internal
   */
  public get _pinnedRoleArn(): string {
    return governedRoleArn(Stack.of(this), this.agentId);
  }

  /**
   * Lets a grant's resource-policy writes through this agent's boundary
   * until the grant's expiry.
   * @internal
   */
  public _allowResourcePolicyWrites(optIn: ResourcePolicyOptIn): void {
    if (!this.ownBoundary) {
      this.currentBoundary = this.makeOwnBoundary();
      (this.agentRole.node.defaultChild as iam.CfnRole).permissionsBoundary = this.currentBoundary.managedPolicyArn;
    }
    this.resourcePolicyOptIns.push(optIn);
    this.ownBoundary!.addStatements(optInEndStatement(optIn, this.resourcePolicyOptIns.length));
  }

  private makeOwnBoundary(): iam.ManagedPolicy {
    this.ownBoundary = ownBoundary(this, this.ceiling, () => this.resourcePolicyOptIns);
    return this.ownBoundary;
  }

  /**
   * Lets this agent assume `agent`'s role, only with the delegation session
   * tags (origin agent, delegator, chain) so every call down the chain is
   * attributable; `agent`'s trust policy refuses the assumption without them.
   * With `options.expiresAt` the delegation is a time-bound grant named
   * `delegate-to-<agentId>` on this agent, and `agent`'s trust statement
   * holds only until then too.
   */
  public allowDelegationTo(agent: GovernedAgentRole, options: DelegationOptions = {}): void {
    const problems: string[] = [];
    if (agent === this) problems.push('an agent cannot delegate to itself');
    if (this.delegations.some(d => d.to === agent)) problems.push(`it already delegates to '${agent.agentId}': one delegation per pair of agents`);
    if (options.expiresAt === undefined && [options.requestedBy, options.ticket, options.reason].some(v => v !== undefined)) {
      problems.push('requestedBy, ticket and reason record a time-bound delegation: give expiresAt too, or drop them for a baseline delegation');
    }
    if (problems.length > 0) throw new Error(`GovernedAgentRole '${this.agentId}' delegation to '${agent.agentId}': ${problems.join('; ')}`);

    const sid = delegationSid(agent.agentId);
    // The target's pinned ARN, not a reference: a cycle of delegations or one across stacks needs no reference either way.
    const identity = delegationIdentityStatements(this.agentId, agent._pinnedRoleArn, sid);
    let grant: TemporaryGrant | undefined;
    if (options.expiresAt !== undefined) {
      grant = this.temporaryGrant(delegationGrantName(agent.agentId), {
        expiresAt: options.expiresAt,
        requestedBy: options.requestedBy!,
        ticket: options.ticket!,
        reason: options.reason!,
        statements: identity,
      });
    } else {
      this.addToBaseline(...identity);
    }
    agent.role.assumeRolePolicy!.addStatements(...delegationTrustStatements(this.agentId, Stack.of(this), sid, options.expiresAt));
    this.delegations.push({ to: agent, sid, grant, approvedRegimes: [...options.approvedRegimes ?? []] });
  }

  /**
   * The agent as the governance analysis sees it.
   * @internal
   */
  public _analysisModel(link: StoreLinker): AgentModel {
    const stack = Stack.of(this);
    const grantOf = new Map<Construct, TemporaryGrant>(this.grants.map(g => [g.policy.node.defaultChild!, g]));
    const delegationGrants = new Set(this.delegations.map(d => d.grant).filter(g => g !== undefined));
    const baselineOrigin: StatementOrigin = {
      source: 'baseline',
      delegationSids: this.delegations.filter(d => !d.grant).map(d => d.sid),
    };
    const { inline, managed } = this.attachedPolicies();
    const statements: AnalysedStatement[] = [];
    for (const policy of inline) {
      const grant = grantOf.get(policy);
      const origin: StatementOrigin = grant
        ? { source: delegationGrants.has(grant) ? 'delegation' : 'grant', grantName: grant.grantName, expiresAt: grant.expiresAt, approvedRegimes: grant.approvedRegimes }
        : { ...baselineOrigin, policyName: stack.resolve(policy.policyName) };
      statements.push(...analysedStatements(stack.resolve(policy.policyDocument), origin, stack, link));
    }
    const documents = [
      ...managed.map(p => p.policyDocument),
      ...this.agentRole.managedPolicyAttachments.filter((p): p is iam.ManagedPolicy => p instanceof iam.ManagedPolicy).map(p => p.document),
    ];
    for (const document of documents) statements.push(...analysedStatements(stack.resolve(document), baselineOrigin, stack, link));
    const delegations: DelegationModel[] = this.delegations.map(d => ({
      toAgentId: d.to.agentId,
      via: d.grant?.grantName ?? BASELINE_POLICY_NAME,
      ...(d.grant ? { expiresAt: d.grant.expiresAt } : {}),
      ...(d.approvedRegimes.length > 0 ? { approvedRegimes: d.approvedRegimes } : {}),
    }));
    return { agentId: this.agentId, regimes: this.complianceRegimes, statements, delegations };
  }

  /**
   * Requests a time-bound grant named `name` (the inline policy name). Pass
   * the result to CDK grant calls or add statements to it; every statement
   * holds only before `options.expiresAt`.
   */
  public temporaryGrant(name: string, options: TemporaryGrantOptions): TemporaryGrant {
    return new TemporaryGrant(this, name, options);
  }

  /** Adds statements to the baseline policy. */
  public addToBaseline(...statements: iam.PolicyStatement[]): void {
    for (const statement of statements) this.agentRole.addToPrincipalPolicy(statement);
  }

  /** The agent's time-bound grants. */
  public get grants(): TemporaryGrant[] {
    return this.grantContainer?.node.children.filter((c): c is TemporaryGrant => c instanceof TemporaryGrant) ?? [];
  }

  /** @internal */
  public _grantScope(): Construct {
    return this.grantContainer;
  }

  /**
   * The instant synth-time checks treat as now: the context value
   * `permission-decay:now`, else the real clock (read once).
   * @internal
   */
  public _synthClock(): Date {
    if (!this.clock) {
      const configured = this.node.tryGetContext(SYNTH_CLOCK_CONTEXT_KEY);
      this.clock = configured === undefined
        ? new Date()
        : parseExpiry(normalizeInstant(String(configured), `context ${SYNTH_CLOCK_CONTEXT_KEY}`));
    }
    return this.clock;
  }

  /** @internal */
  public _grantError(name: string, problems: string[]): string {
    return `GovernedAgentRole '${this.agentId}' grant '${name}': ${problems.join('; ')}`;
  }

  /**
   * Throws when a statement names an action IAM does not have.
   * @internal
   */
  public _checkActions(statement: iam.PolicyStatement, where: string): void {
    const problems = actionProblems([...statement.actions, ...statement.notActions]);
    if (problems.length > 0) {
      throw new Error(`GovernedAgentRole '${this.agentId}' ${where}: ${problems.join('; ')}: fix the action name`);
    }
  }

  private checkProps(props: GovernedAgentRoleProps): void {
    const problems: string[] = [];
    if (Token.isUnresolved(props.agentId) || !AGENT_ID_CHARS.test(props.agentId ?? '')) {
      problems.push(`agentId "${props.agentId}" must be a literal of 1 to 128 letters, digits and _ . -: choose such an id`);
    }
    if (!Token.isUnresolved(props.owner)) {
      if (!props.owner) problems.push('owner is missing: give a contact for the agent\'s owner');
      else problems.push(...tagValueProblems('owner', props.owner));
    }
    if (!Number.isInteger(this.maxGrantDurationSeconds) || this.maxGrantDurationSeconds <= 0) {
      problems.push('maxGrantDuration must be a positive whole number of seconds: e.g. Duration.days(30)');
    }
    if (!Number.isInteger(this.maxRenewals) || this.maxRenewals < 0) {
      problems.push(`maxRenewals ${this.maxRenewals} must be a whole number, 0 or more: e.g. 3`);
    }
    for (const regime of props.complianceRegimes ?? []) {
      if (Token.isUnresolved(regime)) continue;
      if (!regime.trim()) problems.push('complianceRegimes has an empty regime: name each, e.g. "pci"');
      else problems.push(...tagValueProblems(`compliance regime "${regime}"`, regime).map(p => p.replace(/^compliance regime "[^"]*" "[^"]*"/, `compliance regime "${regime}"`)));
    }
    const twin = agentsOfStack(Stack.of(this), props.agentId).find(c => c !== this);
    if (twin) problems.push(`another GovernedAgentRole (${twin.node.path}) has this agentId, and both would write one spec parameter: choose another agentId`);
    if (problems.length > 0) throw new Error(`GovernedAgentRole '${props.agentId}': ${problems.join('; ')}`);
  }

  /** The inline and managed policies attached to the role, found in the stack. */
  private attachedPolicies(): AttachedPolicies {
    return this.policyIndex.attachedTo(this.role);
  }

  /**
   * The approved spec, with CDK tokens where deploy-time values go. Computed
   * once per synthesis: the parameter's value and tier and the validation all
   * read it, and the tree does not change while a synthesis resolves it.
   */
  private spec(): AgentSpec {
    const generation = this.policyIndex.generation;
    if (generation === undefined) return this.computeSpec();
    if (this.specCache?.generation !== generation) this.specCache = { generation, spec: this.computeSpec() };
    return this.specCache.spec;
  }

  private computeSpec(): AgentSpec {
    const grantPolicies = new Set<Construct>(this.grants.map(g => g.policy.node.defaultChild!));
    const { inline, managed } = this.attachedPolicies();
    const baseline: SpecPolicy[] = [
      ...inline.filter(p => !grantPolicies.has(p)).map((p): SpecPolicy => ({
        kind: 'inline', name: p.policyName, document: p.policyDocument as PolicyDocumentJson,
      })),
      ...managed.map((p): SpecPolicy => ({
        kind: 'managed', name: p.managedPolicyName ?? lastArnSegment(p.ref), arn: p.ref, document: p.policyDocument as PolicyDocumentJson,
      })),
      ...this.agentRole.managedPolicyAttachments.map((p): SpecPolicy => ({
        kind: 'managed',
        name: lastArnSegment(p.managedPolicyArn),
        arn: p.managedPolicyArn,
        // Documents of AWS-managed and imported policies are not known at synth.
        ...(p instanceof iam.ManagedPolicy ? { document: p.document as unknown as PolicyDocumentJson } : {}),
      })),
    ];
    const grants: SpecGrant[] = this.grants.map(g => ({
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
      agentId: this.agentId,
      roleName: this.role.roleName,
      owner: this.owner,
      maxGrantDurationSeconds: this.maxGrantDurationSeconds,
      maxRenewals: this.maxRenewals,
      baseline,
      grants,
      ...(this.delegations.length > 0 ? {
        delegations: this.delegations
          .map(d => ({ toAgentId: d.to.agentId, ...(d.grant ? { expiresAt: d.grant.expiresAt } : {}) }))
          .sort((x, y) => (x.toAgentId < y.toAgentId ? -1 : 1)),
      } : {}),
    };
  }

  private estimatedSpecLength(): number {
    return estimatedJsonLength(Stack.of(this).resolve(this.spec()));
  }

  /** Checks that need the finished role: quotas, sizes, and statements changed after they were added. */
  private validateRole(): string[] {
    const stack = Stack.of(this);
    const errors: string[] = [];
    const agent = `GovernedAgentRole '${this.agentId}'`;

    for (const grant of this.grants) {
      if (grant.policy.document.isEmpty) {
        errors.push(this._grantError(grant.grantName, ['the grant has no statements: add statements to it (or pass it to a grant call) or remove it']));
      }
    }

    const { inline, managed } = this.attachedPolicies();
    const documents = inline.map(p => stack.resolve(p.policyDocument));
    inline.forEach((policy, i) => {
      const problems = actionProblems(actionsOf(documents[i]));
      if (problems.length > 0) errors.push(`${agent} policy '${policy.policyName}': ${problems.join('; ')}: fix the action name`);
    });

    const inlineChars = documents.reduce((sum, d) => sum + estimatedPolicySize(d), 0);
    if (inlineChars > IAM_LIMITS.inlinePolicyAggregateChars) {
      errors.push(`${agent}: its inline policies (baseline and grants) come to about ${inlineChars} characters; IAM allows `
        + `${IAM_LIMITS.inlinePolicyAggregateChars} per role: remove or narrow grants, or use wildcards in the baseline`);
    }

    const managedCount = managed.length + this.agentRole.managedPolicyAttachments.length;
    if (managedCount > IAM_LIMITS.maxManagedPoliciesPerRole) {
      errors.push(`${agent}: ${managedCount} managed policies are attached; IAM allows ${IAM_LIMITS.maxManagedPoliciesPerRole} `
        + 'per role: merge some of them');
    }

    const tags = ((this.role.node.defaultChild as iam.CfnRole).tags.renderTags() as unknown[] | undefined) ?? [];
    if (tags.length > IAM_LIMITS.maxTagsPerRole) {
      errors.push(`${agent}: the role would carry ${tags.length} tags (3 governance tags, one per grant, and tags applied to it `
        + `or its stack); IAM allows ${IAM_LIMITS.maxTagsPerRole}: remove grants or tags`);
    }

    // An account's shared boundary (deployed by GovernedOrganization) is not in this stack: its size is checked where it is made.
    const ownDocument = this.ownBoundary?.document ?? (this.currentBoundary as Partial<iam.ManagedPolicy>).document;
    const boundarySize = ownDocument ? estimatedPolicySize(stack.resolve(ownDocument)) : 0;
    if (boundarySize > IAM_LIMITS.managedPolicyChars) {
      errors.push(`${agent}: its boundary (ceiling, governance denies and resource-policy opt-ins) is about ${boundarySize} characters; `
        + `a managed policy holds ${IAM_LIMITS.managedPolicyChars}: shorten the ceiling or merge grants' resource-policy opt-ins`);
    }
    if (this.resourcePolicyOptIns.length > 0 && deniedResourcePolicyWrites(this.resourcePolicyOptIns).length === 0) {
      errors.push(`${agent}: its grants opt in to every resource-policy write the boundary denies; `
        + 'list only the actions each grant needs in allowResourcePolicyWrites');
    }

    const specLength = this.estimatedSpecLength();
    if (specLength >= ADVANCED_PARAMETER_CHARS) {
      errors.push(`${agent}: its approved spec is about ${specLength} characters; an SSM parameter holds ${ADVANCED_PARAMETER_CHARS}: `
        + 'move statements into fewer, shorter grants or split the agent');
    }
    return errors;
  }
}

/** The GovernedAgentRoles of each stack by agentId, in construction order: the twin check without walking the app per agent. */
const agentsByStack = new WeakMap<Stack, Map<unknown, GovernedAgentRole[]>>();

function agentsOfStack(stack: Stack, agentId: unknown): GovernedAgentRole[] {
  let byId = agentsByStack.get(stack);
  if (!byId) agentsByStack.set(stack, byId = new Map());
  let agents = byId.get(agentId);
  if (!agents) byId.set(agentId, agents = []);
  return agents;
}

function actionProblems(actions: unknown[]): string[] {
  return actions
    .filter((a): a is string => typeof a === 'string' && !Token.isUnresolved(a))
    .map(a => unknownActionReason(a))
    .filter((p): p is string => p !== undefined);
}

/** Every Action and NotAction of a resolved policy document. */
function actionsOf(document: unknown): unknown[] {
  const statements = (document as PolicyDocumentJson | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.flatMap(s => [s.Action, s.NotAction].flatMap(a => (a === undefined ? [] : Array.isArray(a) ? a : [a])));
}

/** The last segment of a policy ARN: the policy name. */
function lastArnSegment(arn: string): string {
  const last = arn.split('/').pop()!;
  return Token.isUnresolved(last) ? Fn.select(1, Fn.split(':policy/', arn)) : last;
}

/**
 * GovernedAgentRole: the construct (props, constructor, public methods). About
 * 450 lines because the public props and DelegationOptions carry their JSDoc. Its
 * grants are lib/temporary-grant.ts; the spec, the quota checks and the
 * analysis model are lib/private/agent-spec.ts, agent-quotas.ts and agent-analysis.ts.
 */
import { Duration, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AgentModel } from './analysis/model';
import {
  DEFAULT_MAX_GRANT_DURATION_SECONDS,
  DEFAULT_MAX_RENEWALS,
  delegationGrantName,
  GOVERNED_ROLE_PATH,
  MANAGED_BY_VALUE,
  normalizeInstant,
  parseExpiry,
  specParameterName,
  SYNTH_CLOCK_CONTEXT_KEY,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
  TAG_SPEC_DIGEST,
} from './contract';
import { agentAnalysisModel } from './private/agent-analysis';
import { optInEndStatement, ownBoundary, ResourcePolicyOptIn, sharedBoundary } from './private/agent-boundary';
import { actionProblems, agentQuotaProblems } from './private/agent-quotas';
import {
  AgentRole,
  AttachedPolicies,
  GOVERNANCE_TAG_PRIORITY,
  governedRoleArn,
  governedRoleName,
  StackPolicyIndex,
} from './private/agent-role';
import { AgentSpecCache, SpecSource } from './private/agent-spec';
import { delegationIdentityStatements, delegationSid, delegationTrustStatements } from './private/delegation';
import { StoreLinker } from './private/governance-model';
import { GovernanceReportEmitter } from './private/governance-report-emitter';
import { tagValueProblems } from './private/grant-rules';
import { TemporaryGrant, TemporaryGrantOptions } from './temporary-grant';

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
  /** The approved spec and its length, once per synthesis. */
  private readonly specCache: AgentSpecCache;

  constructor(scope: Construct, id: string, props: GovernedAgentRoleProps) {
    super(scope, id);
    this.agentId = props.agentId;
    this.owner = props.owner;
    this.maxGrantDurationSeconds = props.maxGrantDuration?.toSeconds() ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
    this.maxRenewals = props.maxRenewals ?? DEFAULT_MAX_RENEWALS;
    this.complianceRegimes = [...(props.complianceRegimes ?? [])];
    // Registered before the checks, as the construct is in the tree from here on even when they throw.
    agentsOfStack(Stack.of(this), this.agentId).push(this);
    this.checkProps(props);
    this.specParameterName = specParameterName(this.agentId);

    this.ceiling = props.ceiling;
    this.currentBoundary = props.ceiling ? this.makeOwnBoundary() : (props.sharedBoundary ?? sharedBoundary(this));
    // The path is the anchor of governance (boundaries, the sweeper's key policy); the deterministic
    // name lets delegation trust policies pin this role's exact ARN without a reference.
    this.agentRole = new AgentRole(
      this,
      'Role',
      {
        assumedBy: props.assumedBy,
        description: props.description ?? `permission-decay agent ${this.agentId}`,
        permissionsBoundary: this.currentBoundary,
        path: GOVERNED_ROLE_PATH,
        roleName: governedRoleName(this.agentId, Stack.of(this).region),
      },
      statement => this._checkActions(statement, 'baseline'),
    );
    this.role = this.agentRole;
    this.grantPrincipal = this.agentRole;
    this.grantContainer = new Construct(this, 'Grants');

    for (const [key, value] of [
      [TAG_MANAGED_BY, MANAGED_BY_VALUE],
      [TAG_AGENT, this.agentId],
      [TAG_OWNER, this.owner],
    ]) {
      Tags.of(this.role).add(key, value, { priority: GOVERNANCE_TAG_PRIORITY });
    }
    this.addToBaseline(...(props.baseline ?? []));
    props.ceiling?.forEach(statement => this._checkActions(statement, 'ceiling'));

    const stack = Stack.of(this);
    this.policyIndex = StackPolicyIndex.of(stack);
    this.specCache = new AgentSpecCache(
      stack,
      () => this.policyIndex.generation,
      () => this.specSource(),
    );
    // One digest of the spec as synthesized, on the role (a governance tag the boundary keeps from the agent) and in the
    // parameter: the sweeper reads SSM only when a role's digest is not the one it cached (lib/sweeper/spec-cache.ts).
    Tags.of(this.role).add(TAG_SPEC_DIGEST, Lazy.string({ produce: () => this.specCache.digest() }), { priority: GOVERNANCE_TAG_PRIORITY });
    new ssm.CfnParameter(this, 'Spec', {
      name: this.specParameterName,
      type: 'String',
      description: `permission-decay approved spec of agent ${this.agentId}`,
      value: Lazy.string({ produce: () => stack.toJsonString(this.specCache.parameterValue()) }),
      tier: Lazy.string({ produce: () => this.specCache.tier() }),
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
    if (this.delegations.some(d => d.to === agent)) {
      problems.push(`it already delegates to '${agent.agentId}': one delegation per pair of agents`);
    }
    if (options.expiresAt === undefined && [options.requestedBy, options.ticket, options.reason].some(v => v !== undefined)) {
      problems.push(
        'requestedBy, ticket and reason record a time-bound delegation: ' + 'give expiresAt too, or drop them for a baseline delegation',
      );
    }
    if (problems.length > 0) {
      throw new Error(`GovernedAgentRole '${this.agentId}' delegation to '${agent.agentId}': ${problems.join('; ')}`);
    }

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
    this.delegations.push({ to: agent, sid, grant, approvedRegimes: [...(options.approvedRegimes ?? [])] });
  }

  /**
   * The agent as the governance analysis sees it.
   * @internal
   */
  public _analysisModel(link: StoreLinker): AgentModel {
    return agentAnalysisModel(
      {
        stack: Stack.of(this),
        agentId: this.agentId,
        regimes: this.complianceRegimes,
        attached: this.attachedPolicies(),
        managedPolicyAttachments: this.agentRole.managedPolicyAttachments,
        grants: this.grants,
        delegations: this.delegations.map(d => ({
          toAgentId: d.to.agentId,
          sid: d.sid,
          grant: d.grant,
          approvedRegimes: d.approvedRegimes,
        })),
      },
      link,
    );
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
      this.clock = configured === undefined ? new Date() : configuredClock(String(configured));
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
      if (!props.owner) problems.push("owner is missing: give a contact for the agent's owner");
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
      else {
        const what = `compliance regime "${regime}"`;
        problems.push(...tagValueProblems(what, regime).map(p => p.replace(/^compliance regime "[^"]*" "[^"]*"/, what)));
      }
    }
    const twin = agentsOfStack(Stack.of(this), props.agentId).find(c => c !== this);
    if (twin) {
      problems.push(
        `another GovernedAgentRole (${twin.node.path}) has this agentId, and both would write one spec parameter: ` +
          'choose another agentId',
      );
    }
    if (problems.length > 0) throw new Error(`GovernedAgentRole '${props.agentId}': ${problems.join('; ')}`);
  }

  /** The inline and managed policies attached to the role, found in the stack. */
  private attachedPolicies(): AttachedPolicies {
    return this.policyIndex.attachedTo(this.role);
  }

  /** What the approved spec is computed from, read when it is computed (after the tree is built). */
  private specSource(): SpecSource {
    return {
      agentId: this.agentId,
      roleName: this.role.roleName,
      owner: this.owner,
      maxGrantDurationSeconds: this.maxGrantDurationSeconds,
      maxRenewals: this.maxRenewals,
      attached: this.attachedPolicies(),
      managedPolicyAttachments: this.agentRole.managedPolicyAttachments,
      grants: this.grants,
      delegations: this.delegations.map(d => ({ toAgentId: d.to.agentId, ...(d.grant ? { expiresAt: d.grant.expiresAt } : {}) })),
    };
  }

  /** Checks that need the finished role: quotas, sizes, and statements changed after they were added. */
  private validateRole(): string[] {
    return agentQuotaProblems({
      agentId: this.agentId,
      role: this.role,
      attached: this.attachedPolicies(),
      managedPolicyAttachments: this.agentRole.managedPolicyAttachments,
      grants: this.grants,
      boundary: this.currentBoundary,
      resourcePolicyOptIns: this.resourcePolicyOptIns,
      generation: this.policyIndex.generation,
      specLength: () => this.specCache.length(),
      grantError: (name, problems) => this._grantError(name, problems),
    });
  }
}

/** The GovernedAgentRoles of each stack by agentId, in construction order: the twin check without walking the app per agent. */
const agentsByStack = new WeakMap<Stack, Map<unknown, GovernedAgentRole[]>>();

function agentsOfStack(stack: Stack, agentId: unknown): GovernedAgentRole[] {
  let byId = agentsByStack.get(stack);
  if (!byId) agentsByStack.set(stack, (byId = new Map()));
  let agents = byId.get(agentId);
  if (!agents) byId.set(agentId, (agents = []));
  return agents;
}

/** Parsed synth clocks by context value: every agent of an app reads the same one. */
const configuredClocks = new Map<string, Date>();

function configuredClock(configured: string): Date {
  let clock = configuredClocks.get(configured);
  if (!clock) {
    clock = parseExpiry(normalizeInstant(configured, `context ${SYNTH_CLOCK_CONTEXT_KEY}`));
    configuredClocks.set(configured, clock);
  }
  return new Date(clock.getTime());
}

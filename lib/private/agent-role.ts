/**
 * The principals behind a governed agent: the role itself, whose CDK grants
 * land in the `baseline` policy, and one principal per time-bound grant,
 * whose statements land in the grant's policy with the expiry condition.
 */
import { createHash } from 'crypto';
import { Aspects, Aws, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct, IDependable } from 'constructs';
import { isCfnManagedPolicy, isCfnPolicy, isPolicyDocument } from './cdk-brands';
import { BASELINE_POLICY_NAME, EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, GOVERNED_ROLE_PATH, PolicyDocumentJson } from '../contract';

/** IAM role names hold 64 characters; a region name takes at most 20 of them with its separator. */
const ROLE_NAME_AGENT_CHARS = 43;

/**
 * The name of a governed agent's role: its agent id and the stack's region
 * (role names are unique per account, and one app may be deployed to several
 * regions). Long ids are cut and keep a short hash of the whole id.
 *
 * The name is known at synth from literals and pseudo parameters, so another
 * role's trust policy (or another stack) can name the agent's exact ARN
 * without a CloudFormation reference: delegations that form a cycle, or
 * cross stacks, still deploy.
 */
export function governedRoleName(agentId: string, region: string): string {
  const part =
    agentId.length <= ROLE_NAME_AGENT_CHARS
      ? agentId
      : `${agentId.slice(0, ROLE_NAME_AGENT_CHARS - 7)}-${createHash('sha256').update(agentId).digest('hex').slice(0, 6)}`;
  return `${part}-${region}`;
}

/**
 * The ARN of a governed agent's role in `stack` (its account and region; an
 * environment-agnostic stack's are resolved where the ARN is used).
 */
export function governedRoleArn(stack: Stack, agentId: string): string {
  return `arn:${Aws.PARTITION}:iam::${stack.account}:role${GOVERNED_ROLE_PATH}${governedRoleName(agentId, stack.region)}`;
}

/**
 * A Role whose principal policy is the inline policy named `baseline` rather
 * than CDK's DefaultPolicy (whose name is generated), so the approved spec can
 * name it. Managed policies attached with addManagedPolicy are remembered for
 * the spec.
 */
export class AgentRole extends iam.Role {
  private baselinePolicy?: iam.Policy;
  private readonly addedManagedPolicies: iam.IManagedPolicy[] = [];

  constructor(
    scope: Construct,
    id: string,
    props: iam.RoleProps,
    private readonly checkStatement: (statement: iam.PolicyStatement) => void,
  ) {
    super(scope, id, props);
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.checkStatement(statement);
    const policy = this.baseline();
    policy.addStatements(statement);
    return { statementAdded: true, policyDependable: policy };
  }

  public addManagedPolicy(policy: iam.IManagedPolicy): void {
    super.addManagedPolicy(policy);
    this.addedManagedPolicies.push(policy);
  }

  /** Managed policies attached through the role's ManagedPolicyArns. */
  public get managedPolicyAttachments(): readonly iam.IManagedPolicy[] {
    return this.addedManagedPolicies;
  }

  /** The baseline policy (synthesized only once it has statements). */
  public baseline(): iam.Policy {
    if (!this.baselinePolicy) {
      this.baselinePolicy = new iam.Policy(this, 'Baseline', { policyName: BASELINE_POLICY_NAME });
      this.attachInlinePolicy(this.baselinePolicy);
    }
    return this.baselinePolicy;
  }
}

/**
 * The principal of a time-bound grant. CDK grant calls made against it add
 * their statements to the grant (which adds the expiry condition); resource
 * policies that name it get the expiry condition too, so nothing it is given
 * outlives the grant.
 */
export class GrantPrincipal implements iam.IPrincipal {
  public readonly assumeRoleAction: string;
  public readonly grantPrincipal: iam.IPrincipal = this;

  constructor(
    private readonly role: iam.IRole,
    private readonly expiresAt: string,
    private readonly addStatement: (statement: iam.PolicyStatement) => IDependable,
  ) {
    this.assumeRoleAction = role.assumeRoleAction;
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return new iam.PrincipalWithConditions(this.role, {
      [EXPIRY_CONDITION_OPERATOR]: { [EXPIRY_CONDITION_KEY]: this.expiresAt },
    }).policyFragment;
  }

  public get principalAccount(): string | undefined {
    return this.role.principalAccount;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    return { statementAdded: true, policyDependable: this.addStatement(statement) };
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public toString(): string {
    return `GrantPrincipal(${this.role.node.path})`;
  }
}

/** The inline and managed policy resources attached to a role. */
export interface AttachedPolicies {
  readonly inline: iam.CfnPolicy[];
  readonly managed: iam.CfnManagedPolicy[];
}

const NONE: AttachedPolicies = { inline: [], managed: [] };
const indexes = new WeakMap<Stack, StackPolicyIndex>();

/**
 * The policy resources of a stack by the role they attach to, found in one
 * walk of the stack per synthesis. Policies reach a role by many paths (L2
 * Policy or ManagedPolicy, L1 resources naming the role, imported roles), so
 * the stack is searched rather than trusting attach calls; a search per agent
 * made synth quadratic in the number of agents.
 *
 * The index is an aspect of the stack: aspects run at the start of every
 * synthesis, before any template is resolved, and visiting the stack drops
 * the index, so each synthesis searches the tree as it then is.
 */
export class StackPolicyIndex implements IAspect {
  /** The index of `stack`, created (and added to its aspects) on first use. */
  public static of(stack: Stack): StackPolicyIndex {
    let index = indexes.get(stack);
    if (!index) {
      index = new StackPolicyIndex(stack);
      indexes.set(stack, index);
      Aspects.of(stack).add(index);
    }
    return index;
  }

  private byRole?: Map<string, AttachedPolicies>;
  /** attachedTo's answers this synthesis. */
  private readonly answers = new Map<iam.IRole, AttachedPolicies>();
  private synthesis = 0;

  private constructor(private readonly stack: Stack) {}

  public visit(node: IConstruct): void {
    if (node === this.stack) this.invalidate();
  }

  /**
   * The synthesis under way: results computed under one generation hold
   * until it changes. Undefined before the stack's first synthesis, when
   * nothing may be cached (the tree is still being built).
   */
  public get generation(): number | undefined {
    return this.synthesis === 0 ? undefined : this.synthesis;
  }

  /** The policies attached to `role` (which must be in the stack), in tree order; inline ones only when they have statements. */
  public attachedTo(role: iam.IRole): AttachedPolicies {
    if (this.generation === undefined) return this.find(this.search(), role);
    this.byRole ??= this.search();
    let found = this.answers.get(role);
    if (!found) this.answers.set(role, (found = this.find(this.byRole, role)));
    return { inline: [...found.inline], managed: [...found.managed] };
  }

  private find(byRole: Map<string, AttachedPolicies>, role: iam.IRole): AttachedPolicies {
    const found = byRole.get(JSON.stringify(this.stack.resolve(role.roleName)));
    return found ? { inline: found.inline.filter(p => hasStatements(this.stack, p)), managed: [...found.managed] } : NONE;
  }

  private invalidate(): void {
    this.byRole = undefined;
    this.answers.clear();
    this.synthesis++;
  }

  private search(): Map<string, AttachedPolicies> {
    const byRole = new Map<string, { inline: iam.CfnPolicy[]; managed: iam.CfnManagedPolicy[] }>();
    const entry = (key: string) => {
      let e = byRole.get(key);
      if (!e) byRole.set(key, (e = { inline: [], managed: [] }));
      return e;
    };
    for (const c of this.stack.node.findAll()) {
      if (isCfnPolicy(c)) {
        this.roleKeys(c.roles).forEach(key => entry(key).inline.push(c));
      } else if (isCfnManagedPolicy(c)) {
        this.roleKeys(c.roles).forEach(key => entry(key).managed.push(c));
      }
    }
    return byRole;
  }

  /** The distinct roles a policy resource names, as resolved JSON text. */
  private roleKeys(roles: unknown): string[] {
    const resolved = this.stack.resolve(roles);
    return Array.isArray(resolved) ? [...new Set(resolved.map(r => JSON.stringify(r)))] : [];
  }
}

/** Whether a policy resource's document has statements (CDK leaves a policy without any out of the template). */
function hasStatements(stack: Stack, policy: iam.CfnPolicy): boolean {
  // An L2 document renders a statement per statement it holds (merging never empties it): no need to resolve it.
  if (isPolicyDocument(policy.policyDocument)) return !policy.policyDocument.isEmpty;
  const document = stack.resolve(policy.policyDocument) as PolicyDocumentJson | undefined;
  return !!document && (Array.isArray(document.Statement) ? document.Statement.length > 0 : !!document.Statement);
}

/** Governance tags win over tags of the same key applied to a whole app or stack. */
export const GOVERNANCE_TAG_PRIORITY = 1000;

/**
 * The principals behind a governed agent: the role itself, whose CDK grants
 * land in the `baseline` policy, and one principal per time-bound grant,
 * whose statements land in the grant's policy with the expiry condition.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { BASELINE_POLICY_NAME, EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR } from './contract';

/**
 * A Role whose principal policy is the inline policy named `baseline` rather
 * than CDK's DefaultPolicy (whose name is generated), so the approved spec can
 * name it. Managed policies attached with addManagedPolicy are remembered for
 * the spec.
 */
export class AgentRole extends iam.Role {
  private baselinePolicy?: iam.Policy;
  private readonly addedManagedPolicies: iam.IManagedPolicy[] = [];

  constructor(scope: Construct, id: string, props: iam.RoleProps, private readonly checkStatement: (statement: iam.PolicyStatement) => void) {
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

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App,
  Aws,
  CfnOutput,
  Duration,
  Stack,
  StackProps,
  Tags,
  Token,
  aws_cloudformation as cloudformation,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { boundaryStatements, SHARED_BOUNDARY_ID, StackBoundaries } from './private/agent-boundary';
import { EVENT_SOURCE, SWEEPER_COMPONENT_VALUE, SWEEPER_ROLE_PATH, TAG_COMPONENT } from './contract';
import { MemberTemplateSynthesizer } from './private/member-template-synthesizer';
import {
  AUDIT_ROLE_NAME,
  AUDIT_ROLE_PATH,
  CENTRAL_BUS_WRITER_PATH,
  CENTRAL_DECISION_BUS_NAME,
  MEMBER_BOUNDARY_NAME,
  MEMBER_BOUNDARY_PATH,
  MEMBER_DECISION_BUS_NAME,
  MEMBER_LEDGER_TABLE_NAME,
  ORG_VIEW_ROLE_NAME,
  ORG_VIEW_ROLE_PATH,
} from './private/organization-contract';
import { PermissionSweeper, PermissionSweeperProps } from './permission-sweeper';

/** CloudFormation reads a StackSet's TemplateBody up to this many bytes. */
const TEMPLATE_BODY_MAX_BYTES = 51_200;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
/** Organizational unit ids, or the root (a StackSet may target the whole organisation through it). */
const DEPLOYMENT_TARGET_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9.-]*$/;
const STACK_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;

/** One object the member template reads from the organisation's asset bucket (`<assetBucketPrefix>-<region>`). */
export interface MemberAssetObject {
  /** The object key in the asset bucket. */
  readonly objectKey: string;
  /** The content hash CDK computed for the asset. */
  readonly sourceHash: string;
  /** How the asset is packaged: `zip` (a directory, zipped) or `file`. */
  readonly packaging: string;
}

/** Properties of a {@link MemberGovernanceStack}. */
export interface MemberGovernanceStackProps extends StackProps {
  /** ARN of the organisation's central decision bus, which this account's decision events are forwarded to. */
  readonly centralBusArn: string;

  /** ARN of the central account's org-view role: the only principal the audit role trusts. */
  readonly orgViewRoleArn: string;

  /**
   * Settings of the account's sweeper. Its ledger table, event bus and agents are
   * fixed by the member template (well-known names), so they may not be set.
   * @default PermissionSweeper's defaults
   */
  readonly sweeper?: PermissionSweeperProps;
}

/**
 * The governance of one member account: the sweeper with its ledger
 * (`permission-decay-ledger-org`), the shared boundary of the account's
 * governed roles (`policy/permission-decay/permission-decay-boundary`), a
 * decision bus that forwards every decision event to the central bus, and a
 * read-only audit role for the central account. `GovernedOrganization`
 * deploys it to every account of its organizational units; every resource
 * has a fixed name so agents' stacks and the CLI find it without references.
 */
export class MemberGovernanceStack extends Stack {
  /** The account's sweeper. */
  public readonly sweeper: PermissionSweeper;
  /** The boundary every governed role of the account uses (unless it needs one of its own). */
  public readonly boundary: iam.ManagedPolicy;
  /** The bus that receives the sweeper's decision events. */
  public readonly decisionBus: events.EventBus;
  /** The rule that forwards decision events to the central bus. */
  public readonly forwardRule: events.Rule;
  /** The role EventBridge uses to put forwarded events on the central bus (under the sweeper path the central bus admits). */
  public readonly forwardRole: iam.Role;
  /** The read-only audit role the central account's org-view role assumes. */
  public readonly auditRole: iam.Role;

  constructor(scope: Construct, id: string, props: MemberGovernanceStackProps) {
    super(scope, id, props);
    const fixed = (['ledgerTable', 'ledgerTableName', 'eventBus', 'agents'] as const).filter(k => props.sweeper?.[k] !== undefined);
    if (fixed.length > 0) {
      throw new Error(
        `MemberGovernanceStack: sweeper.${fixed.join(', sweeper.')} cannot be set: the member template fixes them ` +
          '(the CLI and agents find the ledger and bus by name); remove them',
      );
    }

    this.boundary = StackBoundaries.of(this).track(
      new iam.ManagedPolicy(this, SHARED_BOUNDARY_ID, {
        managedPolicyName: MEMBER_BOUNDARY_NAME,
        path: MEMBER_BOUNDARY_PATH,
        description: 'permission-decay boundary of this account: governed agents cannot change their own governance',
        statements: boundaryStatements(undefined),
      }),
    );

    this.decisionBus = new events.EventBus(this, 'DecisionBus', { eventBusName: MEMBER_DECISION_BUS_NAME });
    this.sweeper = new PermissionSweeper(this, 'Sweeper', {
      ...props.sweeper,
      ledgerTableName: MEMBER_LEDGER_TABLE_NAME,
      eventBus: this.decisionBus,
    });

    // Forwarded by a rule rather than written by the sweeper twice: the account keeps its own stream, and the
    // central bus sees exactly what the account's bus received from its sweeper.
    this.forwardRole = new iam.Role(this, 'ForwardRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      path: SWEEPER_ROLE_PATH,
      description: "permission-decay: forwards this account's decision events to the organisation's central bus",
    });
    // The EventBus target grants this role events:PutEvents on the central bus, and nothing else.
    this.forwardRule = new events.Rule(this, 'ForwardDecisions', {
      description: "Forwards permission-decay decisions to the organisation's central bus",
      eventBus: busByName(this, 'DecisionBusByName', this.decisionBus),
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'CentralBus', props.centralBusArn), { role: this.forwardRole })],
    });
    this.forwardRule.node.addDependency(this.decisionBus);

    this.auditRole = new iam.Role(this, 'AuditRole', {
      roleName: AUDIT_ROLE_NAME,
      path: AUDIT_ROLE_PATH,
      assumedBy: new iam.ArnPrincipal(props.orgViewRoleArn),
      maxSessionDuration: Duration.hours(1),
      description: "permission-decay: read-only view of this account's governance for the organisation's central account",
    });
    this.sweeper.grantRead(this.auditRole);

    new CfnOutput(this, 'BoundaryArn', { description: 'The shared boundary of governed roles', value: this.boundary.managedPolicyArn });
    new CfnOutput(this, 'AuditRoleArn', { description: 'The read-only audit role', value: this.auditRole.roleArn });

    // Every governed role's boundary denies anything on resources with this tag: agents cannot drop the
    // forwarding rule, retarget the bus or change the audit role. Not on KMS keys: moto 5.2.1's
    // CloudFormation cannot create a key with Tags (the key policies deny governed agents by path instead).
    Tags.of(this).add(TAG_COMPONENT, SWEEPER_COMPONENT_VALUE, { excludeResourceTypes: ['AWS::KMS::Key'] });
  }
}

/** Who creates the StackSet: the management account itself, or a delegated administrator. */
export enum StackSetCaller {
  /** The organisation's management account. */
  SELF = 'SELF',
  /** A member account registered as delegated administrator for CloudFormation StackSets. */
  DELEGATED_ADMIN = 'DELEGATED_ADMIN',
}

/** Properties of a {@link GovernedOrganization}. */
export interface GovernedOrganizationProps {
  /** The organisation's id (`o-...`): the central bus admits only its principals. */
  readonly organizationId: string;

  /** The organizational units (`ou-...`, or the root `r-...`) whose accounts are governed, now and when created or moved in. */
  readonly organizationalUnitIds: string[];

  /**
   * The region every account's governance lives in. One region: IAM is global,
   * so each account has one sweeper and one ledger for all its governed roles
   * (two regions would mean two sweepers racing on the same roles with two
   * ledgers). Agents' stacks may be in any region; their approved specs are
   * read from this one, so deploy agents here or copy their spec parameters.
   */
  readonly region: string;

  /**
   * Prefix of the bucket the member template reads its sweeper code from:
   * `<assetBucketPrefix>-<region>` (a Lambda function reads its code in its own
   * region), whose policy lets the organisation read (`aws:PrincipalOrgID`).
   * Upload each object of `assetObjects` there before the StackSet deploys.
   */
  readonly assetBucketPrefix: string;

  /**
   * Settings of every account's sweeper (ledger, bus and agents are fixed by the member template).
   * @default PermissionSweeper's defaults
   */
  readonly sweeper?: PermissionSweeperProps;

  /**
   * Who may assume the org-view role that reads every member account through its audit role.
   * @default the central account (its IAM policies then decide who)
   */
  readonly orgViewPrincipal?: iam.IPrincipal;

  /**
   * The StackSet's name.
   * @default 'permission-decay-governance'
   */
  readonly stackSetName?: string;

  /**
   * Whether the StackSet is created by the management account or a delegated administrator.
   * @default StackSetCaller.SELF
   */
  readonly callAs?: StackSetCaller;

  /**
   * Keep an account's governance stack when the account leaves the organizational units.
   * @default true: its ledger and sweeper stay; remove them by hand once the account is governed elsewhere
   */
  readonly retainStacksOnAccountRemoval?: boolean;
}

/**
 * Governance for every account of an organisation, deployed from the
 * management (or delegated administrator) account: a service-managed
 * CloudFormation StackSet with automatic deployment puts a
 * {@link MemberGovernanceStack} in every account of the organizational units
 * (a new account is governed on creation); every account's
 * decision events reach one central bus, which admits only the member
 * sweepers of the organisation, and a queue a governance team reads; an
 * org-view role reads every account through its read-only audit role
 * (`permission-decay status --org`).
 *
 * The stack must name its account and region: the member template names the
 * central bus and the org-view role by ARN.
 */
export class GovernedOrganization extends Construct {
  /**
   * The shared boundary the member template deploys in the account of `scope`,
   * for `GovernedAgentRole`'s `sharedBoundary`.
   */
  public static memberBoundary(scope: Construct, id = 'PermissionDecayMemberBoundary'): iam.IManagedPolicy {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(id);
    if (existing) return existing as iam.IManagedPolicy;
    return iam.ManagedPolicy.fromManagedPolicyArn(
      stack,
      id,
      `arn:${Aws.PARTITION}:iam::${stack.account}:policy${MEMBER_BOUNDARY_PATH}${MEMBER_BOUNDARY_NAME}`,
    );
  }

  /** The StackSet that deploys the member template. */
  public readonly stackSet: cloudformation.CfnStackSet;
  /** The member template (CloudFormation JSON) every account receives. */
  // jsii maps `{ [key: string]: any }` to a map of objects in every language; `unknown` has no jsii form.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public readonly memberTemplate: { [key: string]: any };
  /** Objects every region's asset bucket must hold (the sweeper's code). */
  public readonly assetObjects: MemberAssetObject[];
  /** The central bus every account's decision events reach. */
  public readonly centralBus: events.EventBus;
  /** The queue a governance team reads decision events from. */
  public readonly decisionQueue: sqs.Queue;
  /** The rule from the central bus to the queue. */
  public readonly decisionRule: events.Rule;
  /** The role that lists accounts and assumes each member's audit role. */
  public readonly orgViewRole: iam.Role;

  constructor(scope: Construct, id: string, props: GovernedOrganizationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const problems = propProblems(props, stack);
    if (problems.length > 0) throw new Error(`GovernedOrganization: ${problems.join('; ')}`);

    this.centralBus = new events.EventBus(this, 'CentralBus', { eventBusName: CENTRAL_DECISION_BUS_NAME });
    // Only the organisation, and in it only roles under the sweeper path (member sweepers and their forwarding
    // roles): a governed agent's role is under the agents path, and its boundary denies creating or passing a
    // role under the permission-decay root, so no agent can write here whatever its identity policy says.
    this.centralBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'MemberSweepersOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.centralBus.eventBusArn],
        conditions: {
          StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
          ArnLike: { 'aws:PrincipalArn': `arn:${stack.partition}:iam::*:role${CENTRAL_BUS_WRITER_PATH}*` },
        },
      }),
    );
    this.decisionQueue = new sqs.Queue(this, 'DecisionQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.decisionRule = new events.Rule(this, 'Decisions', {
      description: 'Every permission-decay decision of the organisation, for the governance team',
      eventBus: busByName(this, 'CentralBusByName', this.centralBus),
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new targets.SqsQueue(this.decisionQueue)],
    });
    this.decisionRule.node.addDependency(this.centralBus);

    this.orgViewRole = new iam.Role(this, 'OrgViewRole', {
      roleName: ORG_VIEW_ROLE_NAME,
      path: ORG_VIEW_ROLE_PATH,
      assumedBy: props.orgViewPrincipal ?? new iam.AccountRootPrincipal(),
      maxSessionDuration: Duration.hours(1),
      description: 'permission-decay: reads every governed account of the organisation through its audit role',
    });
    this.orgViewRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberAuditRoles',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${stack.partition}:iam::*:role${AUDIT_ROLE_PATH}${AUDIT_ROLE_NAME}`],
        conditions: { StringEquals: { 'aws:ResourceOrgID': props.organizationId } },
      }),
    );
    this.orgViewRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListAccounts',
        actions: ['organizations:ListAccounts', 'organizations:ListAccountsForParent'],
        resources: ['*'],
      }),
    );

    const member = synthesizeMemberTemplate(props, {
      centralBusArn: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/${CENTRAL_DECISION_BUS_NAME}`,
      orgViewRoleArn: `arn:${stack.partition}:iam::${stack.account}:role${ORG_VIEW_ROLE_PATH}${ORG_VIEW_ROLE_NAME}`,
    });
    this.memberTemplate = member.template;
    this.assetObjects = member.assetObjects;
    // TemplateBody, not TemplateURL: StackSets reads the body directly, so no bucket of the management account has to
    // admit the StackSets service, and the template is reviewable in this stack's own template. Its size is checked.
    const body = JSON.stringify(member.template);
    if (Buffer.byteLength(body) > TEMPLATE_BODY_MAX_BYTES) {
      throw new Error(
        `GovernedOrganization: the member template is ${Buffer.byteLength(body)} bytes; a StackSet TemplateBody holds ` +
          `${TEMPLATE_BODY_MAX_BYTES}: report this, the member template must shrink`,
      );
    }

    this.stackSet = new cloudformation.CfnStackSet(this, 'StackSet', {
      stackSetName: props.stackSetName ?? 'permission-decay-governance',
      description: 'permission-decay: sweeper, ledger, boundary, decision forwarding and audit role of every governed account',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: props.retainStacksOnAccountRemoval ?? true },
      callAs: props.callAs ?? StackSetCaller.SELF,
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: { regionConcurrencyType: 'PARALLEL', maxConcurrentPercentage: 25, failureTolerancePercentage: 10 },
      stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: props.organizationalUnitIds }, regions: [props.region] }],
      templateBody: body,
    });
    // Member audit roles trust the org-view role by ARN (IAM refuses a trust policy naming a role that does not
    // exist), and their forwarding rules target the central bus.
    this.stackSet.node.addDependency(this.orgViewRole, this.centralBus);

    new CfnOutput(this, 'CentralBusArn', { description: "The organisation's central decision bus", value: this.centralBus.eventBusArn });
    new CfnOutput(this, 'DecisionQueueUrl', { description: 'Every decision of the organisation', value: this.decisionQueue.queueUrl });
    new CfnOutput(this, 'OrgViewRoleArn', {
      description: 'Assume it to run permission-decay status --org',
      value: this.orgViewRole.roleArn,
    });
    new CfnOutput(this, 'MemberAssetObjects', {
      description: `Upload these objects to ${props.assetBucketPrefix}-${props.region}`,
      value: this.assetObjects.map(o => o.objectKey).join(','),
    });
  }
}

/**
 * A bus of this stack by its literal name, for a rule (which must then depend on the bus). The same as a `Ref` on AWS;
 * moto 5.2.1's CloudFormation fails a rule whose EventBusName is a `Ref` to a bus of the same stack.
 */
function busByName(scope: Construct, id: string, bus: events.EventBus): events.IEventBus {
  const name = (bus.node.defaultChild as events.CfnEventBus).name;
  if (Token.isUnresolved(name)) throw new Error(`the bus ${bus.node.path} needs a literal name`);
  return events.EventBus.fromEventBusName(scope, id, name);
}

function propProblems(props: GovernedOrganizationProps, stack: Stack): string[] {
  const problems: string[] = [];
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
    problems.push('its stack needs a literal env account and region (the member template names the central bus and org-view role by ARN)');
  }
  if (!ORGANIZATION_ID.test(props.organizationId ?? '')) {
    problems.push(`organizationId "${props.organizationId}" is not an organisation id (o-...)`);
  }
  const targetIds = props.organizationalUnitIds ?? [];
  if (targetIds.length === 0) problems.push('organizationalUnitIds is empty: name at least one OU (ou-...) or the root (r-...)');
  for (const ou of targetIds.filter(o => !DEPLOYMENT_TARGET_ID.test(o))) {
    problems.push(`"${ou}" is not an OU id (ou-...) or root id (r-...)`);
  }
  const region = props.region ?? '';
  if (!REGION.test(region)) problems.push(`region "${region}" is not a region name such as eu-west-1 (one region: IAM is global)`);
  const prefix = props.assetBucketPrefix ?? '';
  if (!BUCKET_PREFIX.test(prefix) || prefix.length + 1 + region.length > 63) {
    problems.push(
      `assetBucketPrefix "${prefix}" does not make bucket names "<prefix>-<region>" ` + 'of at most 63 lowercase letters, digits, . and -',
    );
  }
  if (props.stackSetName !== undefined && !STACK_SET_NAME.test(props.stackSetName)) {
    problems.push(`stackSetName "${props.stackSetName}" must start with a letter and hold only letters, digits and - (at most 128)`);
  }
  return problems;
}

/**
 * Synthesizes the member template in an app of its own: the StackSet carries it
 * as a document, and its assets are named in the organisation's asset buckets.
 */
function synthesizeMemberTemplate(
  props: GovernedOrganizationProps,
  arns: { centralBusArn: string; orgViewRoleArn: string },
): { template: GovernedOrganization['memberTemplate']; assetObjects: MemberAssetObject[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'permission-decay-member-'));
  try {
    const app = new App({ outdir, analyticsReporting: false });
    const synthesizer = new MemberTemplateSynthesizer(props.assetBucketPrefix);
    const member = new MemberGovernanceStack(app, 'PermissionDecayMember', { ...arns, sweeper: props.sweeper, synthesizer });
    const template = app.synth().getStackArtifact(member.artifactId).template;
    return { template, assetObjects: [...synthesizer.assetObjects] };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

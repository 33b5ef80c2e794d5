import * as fs from 'fs';
import * as path from 'path';
import {
  Annotations,
  CfnOutput,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
  Tags,
  Token,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_destinations as destinations,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_CHECKPOINT_INTERVAL_SECONDS,
  DEFAULT_DRIFT_PERIOD_SECONDS,
  DEFAULT_WARNING_WINDOW_SECONDS,
  LEDGER_KEYS,
  LEDGER_TABLE_NAME_PREFIX,
  IDENTITY_ENV,
  SWEEPER_COMPONENT_VALUE,
  SWEEPER_ENV,
  SWEEPER_METRICS,
  SWEEPER_ROLE_PATH,
  TAG_COMPONENT,
} from './contract';
import { GOVERNED_ROLES_ARN, StackBoundaries } from './private/agent-boundary';
import { isOwnedManagedPolicy } from './private/cdk-brands';
import { acknowledgeSweeperFindings } from './private/sweeper-acknowledgements';
import { acknowledgeLedgerEvidenceFindings, ledgerEvidenceStatements } from './private/ledger-evidence-statements';
import { approverStatements, readerStatements, requesterStatements } from './private/people-grant-statements';
import { sweeperRoleStatements } from './private/sweeper-role-statements';
import { ActivityRecorder } from './private/activity-recorder';
import { DEFAULT_BASELINE_WINDOW_SECONDS } from './contract/activity';

/**
 * An agent whose role the sweeper governs. GovernedAgentRole satisfies it;
 * so does any construct that exposes the same two fields.
 */
export interface IGovernedAgent {
  /** The agent's id, as written in its approved spec. */
  readonly agentId: string;
  /** The agent's IAM role (tagged governance:managed-by=permission-decay). */
  readonly role: iam.IRole;
  /**
   * The agent's permissions boundary. When it is a managed policy in the
   * sweeper's stack, registering adds a deny on this sweeper's resources by ARN.
   * @default no boundary known: the tag-based deny of GovernedAgentRole's boundary still applies
   */
  readonly boundary?: iam.IManagedPolicy;
}

/** Properties of a {@link PermissionSweeper}. */
export interface PermissionSweeperProps {
  /**
   * When the sweep runs (an EventBridge rule on the default bus).
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * How long a drift policy (one that is neither baseline nor a tagged grant)
   * lives before it decays. Whole seconds, more than zero.
   * @default Duration.days(7)
   */
  readonly driftPeriod?: Duration;

  /**
   * How long before a grant's expiry its owner is warned (once). Whole seconds; zero turns warnings off.
   * @default Duration.days(3)
   */
  readonly warningWindow?: Duration;

  /**
   * How often each governed role's effective permissions are frozen into the
   * ledger as a `checkpoint` record that flags every permission not in the
   * approved spec (`permission-decay history --at` answers from them). A
   * role's first checkpoint is due this long after the ledger first saw it,
   * then this long after the last. Whole seconds; `Duration.seconds(0)` turns
   * checkpoints off.
   * @default Duration.days(30)
   */
  readonly checkpointInterval?: Duration;

  /**
   * Revoke drift at once instead of letting it decay over `driftPeriod`.
   * @default false
   */
  readonly strict?: boolean;

  /**
   * The bus that receives governance decision events.
   * @default the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * An existing ledger table (partition key `pk`, sort key `sk`, both strings).
   * Its name must start with `permission-decay-ledger` so that the governed
   * roles' boundaries deny writing it.
   * @default a new table named `ledgerTableName`
   */
  readonly ledgerTable?: dynamodb.ITable;

  /**
   * Name of the ledger table this construct creates. Must start with
   * `permission-decay-ledger`. Not allowed together with `ledgerTable`.
   * @default `permission-decay-ledger-<stack name>`
   */
  readonly ledgerTableName?: string;

  /**
   * Topic the sweeper's alarms notify.
   * @default the owner topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The sweeper function's timeout: 1 to 15 minutes. The sweep stops cleanly
   * 30 seconds before it and leaves the rest for the next run.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the sweeper function, in MB (128 to 10240).
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * How long the sweeper's logs are kept. (The ledger, not the logs, is the record of decisions.)
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Agents to register at once; more can be added with `register`.
   * @default none
   */
  readonly agents?: IGovernedAgent[];

  /**
   * Role unique ids (`AROA...`) whose session name names a person because
   * someone other than the caller sets it (for example IAM Identity Center
   * permission-set roles). For every other role, all sessions of the role are
   * one person, so a requester cannot approve their own grant by assuming a
   * role under another session name.
   * @default none: every session of a role is the same person
   */
  readonly sessionNamedRoleIds?: string[];

  /**
   * Record what governed roles actually do (README "Activity"): an EventBridge
   * rule on their CloudTrail API calls and a function that aggregates them in
   * the ledger per role, action, resource and day, surfaces refused calls as
   * access requests and first uses outside the baseline window as novel access.
   * Needs CloudTrail in the account (a trail with data events for S3 objects,
   * DynamoDB items, Lambda invocations).
   * @default true
   */
  readonly activity?: boolean;

  /**
   * How much of a role's activity is its baseline: a call whose action or
   * resource the role has not used within this window is novel access. Novel
   * access is reported only once a role's activity began at least this long ago.
   * Whole seconds, more than zero.
   * @default Duration.days(30)
   */
  readonly baselineWindow?: Duration;
}

/** Time the sweep keeps back from the function timeout to stop cleanly. */
const TIME_BUDGET_MARGIN = Duration.seconds(30);
const MIN_TIMEOUT = Duration.minutes(1);
const MAX_TIMEOUT = Duration.minutes(15);
const DYNAMODB_TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * The sweeper of permission-decay: a scheduled Lambda that revokes expired
 * grants, renews approved ones, decays drift and records every decision in an
 * append-only ledger (DynamoDB), on EventBridge and, for owners, on SNS.
 *
 * It may change only roles tagged governance:managed-by=permission-decay, and
 * only their grants; it can never delete ledger records.
 */
export class PermissionSweeper extends Construct {
  /** The ledger table (created here, or the one passed in). */
  public readonly ledgerTable: dynamodb.ITable;
  /** The sweeper Lambda function. */
  public readonly function: lambda.Function;
  /** The sweeper function's execution role. */
  public readonly role: iam.Role;
  /** The schedule rule that starts each sweep. */
  public readonly rule: events.Rule;
  /** The bus that receives governance decision events. */
  public readonly eventBus: events.IEventBus;
  /** The topic that tells owners about expiring grants and drift. Encrypted; publishes over TLS only. */
  public readonly ownerTopic: sns.Topic;
  /** Where failed sweep invocations land (SQS, encrypted, TLS only). */
  public readonly deadLetterQueue: sqs.Queue;
  /** Alarms when a sweep fails (the function's Errors metric). */
  public readonly alarm: cloudwatch.Alarm;
  /** Alarms when a failed invocation lands in the dead-letter queue. */
  public readonly deadLetterQueueAlarm: cloudwatch.Alarm;
  /** The sweeper's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The KMS key that encrypts the owner topic. */
  public readonly encryptionKey: kms.Key;
  /**
   * The asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs every
   * ledger record. Only the sweeper's role may Sign with it; `grantRead`
   * lets people fetch its public key and verify (`history --verify --signing-key <arn>`).
   */
  public readonly signingKey: kms.Key;
  /** Alarms when a sweep leaves an expired grant or drift it meant to remove in place. */
  public readonly failedRevocationsAlarm: cloudwatch.Alarm;
  /** Alarms when roles fail in three sweeps in a row. */
  public readonly roleErrorsAlarm: cloudwatch.Alarm;
  /** Alarms when roles lose the ledger race (or STATE no longer names the chain's head) in two sweeps in a row. */
  public readonly ledgerConflictsAlarm: cloudwatch.Alarm;

  /** The activity recorder's function (absent with `activity: false`). */
  public readonly activityFunction?: lambda.IFunction;
  /** The queue that batches governed roles' CloudTrail events for the recorder (absent with `activity: false`). */
  public readonly activityQueue?: sqs.IQueue;

  private readonly agents: IGovernedAgent[] = [];
  private readonly activityRecorder?: ActivityRecorder;

  constructor(scope: Construct, id: string, props: PermissionSweeperProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    const driftPeriodSeconds = wholeSeconds('driftPeriod', props.driftPeriod, DEFAULT_DRIFT_PERIOD_SECONDS, 1);
    const warningWindowSeconds = wholeSeconds('warningWindow', props.warningWindow, DEFAULT_WARNING_WINDOW_SECONDS, 0);
    const checkpointIntervalSeconds = wholeSeconds('checkpointInterval', props.checkpointInterval, DEFAULT_CHECKPOINT_INTERVAL_SECONDS, 0);
    const timeout = props.timeout ?? Duration.minutes(5);
    if (
      !timeout.isUnresolved() &&
      (timeout.toMilliseconds() < MIN_TIMEOUT.toMilliseconds() || timeout.toMilliseconds() > MAX_TIMEOUT.toMilliseconds())
    ) {
      throw new Error(`PermissionSweeper timeout must be between 1 and 15 minutes; got ${timeout.toHumanString()}`);
    }
    const memorySize = props.memorySize ?? 512;
    if (!Token.isUnresolved(memorySize) && (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240)) {
      throw new Error(`PermissionSweeper memorySize must be a whole number of MB from 128 to 10240; got ${memorySize}`);
    }

    this.ledgerTable = this.ledgerTableFrom(props);
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Encrypts the permission-decay owner topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the (encrypted) owner topic by default.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    denyGovernedAgents(this.encryptionKey);

    this.ownerTopic = new sns.Topic(this, 'OwnerTopic', {
      displayName: 'permission-decay: grants nearing expiry and drift',
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      // Under the permission-decay path, which every governed role's boundary denies passing, assuming or changing.
      path: SWEEPER_ROLE_PATH,
      description: "permission-decay sweeper: reads IAM, changes only governed roles' grants, appends to the ledger",
    });
    for (const statement of sweeperRoleStatements({
      stack,
      ledgerTableArn: this.ledgerTable.tableArn,
      roleArn: this.role.roleArn,
    })) {
      this.role.addToPrincipalPolicy(statement);
    }
    this.signingKey = new kms.Key(this, 'LedgerSigningKey', {
      description: 'Signs permission-decay ledger records: only the sweeper signs; readers verify with the public key',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // The key is the evidence that old records are genuine: it outlives the stack, like the ledger.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The key policy, not only the sweeper's identity policy: no other principal's IAM policy can let it sign.
    this.signingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheSweeperSigns',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.role.roleArn } },
      }),
    );
    // Disabling or deleting the signing key would stop sweeps and leave old records unverifiable.
    denyGovernedAgents(this.signingKey);
    for (const statement of ledgerEvidenceStatements({ stack, signingKeyArn: this.signingKey.keyArn })) {
      this.role.addToPrincipalPolicy(statement);
    }
    this.logGroup.grantWrite(this.role);
    this.eventBus.grantPutEventsTo(this.role);
    this.ownerTopic.grantPublish(this.role);
    this.ledgerTable.encryptionKey?.grantEncryptDecrypt(this.role);

    this.function = new lambda.Function(this, 'Function', {
      description: 'permission-decay sweeper: revokes expired grants, renews approved ones, decays drift',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(sweeperHandlerDir()),
      role: this.role,
      timeout,
      memorySize,
      // One sweep at a time: two sweeps would race on the same roles and ledger chains.
      reservedConcurrentExecutions: 1,
      logGroup: this.logGroup,
      environment: {
        [SWEEPER_ENV.ledgerTable]: this.ledgerTable.tableName,
        [SWEEPER_ENV.eventBusName]: this.eventBus.eventBusName,
        [SWEEPER_ENV.ownerTopicArn]: this.ownerTopic.topicArn,
        [SWEEPER_ENV.driftPeriodSeconds]: String(driftPeriodSeconds),
        [SWEEPER_ENV.warningWindowSeconds]: String(warningWindowSeconds),
        [SWEEPER_ENV.strict]: String(props.strict ?? false),
        [SWEEPER_ENV.checkpointIntervalSeconds]: String(checkpointIntervalSeconds),
        [SWEEPER_ENV.timeBudgetMs]: timeBudgetMs(timeout),
        [IDENTITY_ENV.signingKeyId]: this.signingKey.keyArn,
        ...(props.sessionNamedRoleIds?.length ? { [IDENTITY_ENV.sessionNamedRoleIds]: props.sessionNamedRoleIds.join(',') } : {}),
      },
      // The next scheduled sweep redoes whatever a failed one left; retry twice, then park it.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Starts a permission-decay sweep',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    this.alarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: 'A permission-decay sweep failed: grants may outlive their expiry until it succeeds',
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterQueueAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
      alarmDescription: 'A permission-decay sweep invocation failed for good and is parked in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedRevocationsAlarm = new cloudwatch.Alarm(this, 'FailedRevocationsAlarm', {
      alarmDescription:
        'A permission-decay sweep could not revoke an expired grant or drift: ' + 'it outlives its expiry until a sweep succeeds',
      metric: this.metricFailedRevocations(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.roleErrorsAlarm = new cloudwatch.Alarm(this, 'RoleErrorsAlarm', {
      alarmDescription: 'Governed roles keep failing their sweeps (three periods in a row)',
      metric: this.metricRoleErrors(),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.ledgerConflictsAlarm = new cloudwatch.Alarm(this, 'LedgerConflictsAlarm', {
      alarmDescription: 'Governed roles keep losing the ledger race: another writer, or a STATE item that no longer names its chain head',
      metric: this.metricLedgerConflicts(),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.activity ?? true) {
      this.activityRecorder = new ActivityRecorder(this, 'Activity', {
        ledgerTable: this.ledgerTable,
        eventBus: this.eventBus,
        baselineWindowSeconds: wholeSeconds('baselineWindow', props.baselineWindow, DEFAULT_BASELINE_WINDOW_SECONDS, 1),
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      });
      this.activityFunction = this.activityRecorder.function;
      this.activityQueue = this.activityRecorder.queue;
    }

    const alarmAction = new cloudwatchActions.SnsAction(props.alarmTopic ?? this.ownerTopic);
    for (const a of [this.alarm, this.deadLetterQueueAlarm, this.failedRevocationsAlarm, this.roleErrorsAlarm, this.ledgerConflictsAlarm]) {
      a.addAlarmAction(alarmAction);
    }

    const agentsOutput = new CfnOutput(this, 'GovernedAgents', {
      description: 'Agents registered with this sweeper (agentId and role ARN)',
      value: Lazy.string({
        produce: () => stack.toJsonString(this.agents.map(a => ({ agentId: a.agentId, roleArn: a.role.roleArn }))),
      }),
    });
    const ledgerOutput = new CfnOutput(this, 'LedgerTableName', {
      description: 'The permission-decay ledger table',
      value: this.ledgerTable.tableName,
    });
    // Output keys people can type (README: `<sweeper id>LedgerTableName`, e.g. SweeperLedgerTableName), not hashed logical ids.
    const outputPrefix = id.replace(/[^A-Za-z0-9]/g, '');
    agentsOutput.overrideLogicalId(`${outputPrefix}GovernedAgents`);
    ledgerOutput.overrideLogicalId(`${outputPrefix}LedgerTableName`);

    acknowledgeSweeperFindings({
      stack,
      rolePolicy: this.role.node.findChild('DefaultPolicy'),
      function: this.function,
      deadLetterQueue: this.deadLetterQueue,
    });
    acknowledgeLedgerEvidenceFindings(stack, this.role.node.findChild('DefaultPolicy'));

    // The governed roles' boundaries deny changing anything carrying this tag.
    // Not on the KMS key: moto 5.2.1's CloudFormation fails to create a key
    // with Tags (it reads TagKey/TagValue), so the stack could not be deployed
    // to the local emulator; the key is protected by ARN in denyTamperingThrough.
    Tags.of(this).add(TAG_COMPONENT, SWEEPER_COMPONENT_VALUE, { excludeResourceTypes: ['AWS::KMS::Key'] });

    for (const agent of props.agents ?? []) this.register(agent);
  }

  /**
   * Lets a requester run `request` and `restore`: put a grant's policy and
   * grant tag on governed roles (by the IAM path), and write only their own
   * sealed requests (under their `aws:userid`) and request pointers. No write
   * to the ledger's records or STATE, and no approval.
   */
  public grantRequest(grantee: iam.IGrantable): iam.Grant {
    return this.grantStatements(grantee, requesterStatements(this.peopleScope()));
  }

  /**
   * Lets an approver run `renew`: write only their own sealed approvals
   * (under their `aws:userid`) and renewal pointers, and read what renewing
   * needs. No IAM write: the sweeper applies renewals.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    return this.grantStatements(grantee, approverStatements(this.peopleScope()));
  }

  /** Lets a reader run `status`, `history` (with `--verify` and the public signing key) and `report`. Nothing is written. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantStatements(grantee, readerStatements(this.peopleScope()));
  }

  /** Removals of expired grants or drift a sweep planned and could not finish (Sum per period). */
  public metricFailedRevocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sweeperMetric(SWEEPER_METRICS.failedRevocations, props);
  }

  /** Roles whose sweep failed (Sum per period). */
  public metricRoleErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sweeperMetric(SWEEPER_METRICS.roleErrors, props);
  }

  /** Roles left because they kept losing the ledger race (Sum per period). */
  public metricLedgerConflicts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sweeperMetric(SWEEPER_METRICS.ledgerConflicts, props);
  }

  /** Sweeps that failed (the invocation threw) (Sum per period). */
  public metricFailedSweeps(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sweeperMetric(SWEEPER_METRICS.failedSweeps, props);
  }

  private sweeperMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SWEEPER_METRICS.namespace,
      metricName,
      dimensionsMap: { service: SWEEPER_METRICS.service },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  private peopleScope() {
    return { stack: Stack.of(this), ledgerTableArn: this.ledgerTable.tableArn, signingKeyArn: this.signingKey.keyArn };
  }

  /** One Grant for the statements (each added to the grantee's policy with its own conditions). */
  private grantStatements(grantee: iam.IGrantable, statements: iam.PolicyStatement[]): iam.Grant {
    return statements
      .map(st =>
        iam.Grant.addToPrincipal({
          // No `scope`: aws-cdk-lib ignores it and prints a deprecation warning into every consumer's synth.
          grantee,
          actions: st.actions,
          resourceArns: st.resources,
          ...(Object.keys(st.conditions).length ? { conditions: st.conditions } : {}),
        }),
      )
      .reduce((all, g) => all.combine(g));
  }

  /** The agents registered with this sweeper, in registration order. */
  public get governedAgents(): IGovernedAgent[] {
    return [...this.agents];
  }

  /**
   * Registers a governed agent: it is listed in the `GovernedAgents` output.
   * The sweeper's permissions do not change: it may act on any role tagged
   * governance:managed-by=permission-decay, registered or not.
   */
  public register(agent: IGovernedAgent): void {
    if (!Token.isUnresolved(agent.agentId) && this.agents.some(a => !Token.isUnresolved(a.agentId) && a.agentId === agent.agentId)) {
      throw new Error(`PermissionSweeper: agent "${agent.agentId}" is already registered`);
    }
    this.agents.push(agent);
    this.denyTamperingThrough(agent.boundary);
  }

  private readonly protectedBoundaries = new Set<iam.IManagedPolicy>();
  private protectingStackBoundaries = false;

  /**
   * Denies, in a registered agent's boundary, everything on this sweeper's
   * resources by ARN: it holds even where a service does not evaluate
   * aws:ResourceTag. Only for a boundary in this stack: a reference across
   * stacks would make the agents' stack depend on the sweeper's (and the
   * GovernedAgents output already makes it the other way round). Boundaries
   * made by GovernedAgentRole in this stack all get it, including ones made
   * later (a grant that opts in to resource-policy writes gives its agent one).
   */
  private denyTamperingThrough(boundary: iam.IManagedPolicy | undefined): void {
    if (!boundary || !isOwnedManagedPolicy(boundary) || Stack.of(boundary) !== Stack.of(this)) return;
    const stackBoundaries = StackBoundaries.of(Stack.of(this));
    if (stackBoundaries.has(boundary)) {
      if (this.protectingStackBoundaries) return;
      this.protectingStackBoundaries = true;
      stackBoundaries.protect(this.tamperingDeny());
      return;
    }
    if (this.protectedBoundaries.has(boundary)) return;
    this.protectedBoundaries.add(boundary);
    boundary.addStatements(this.tamperingDeny());
  }

  private tamperingDeny(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: `DenyTampering${this.node.addr.slice(0, 8)}`,
      effect: iam.Effect.DENY,
      actions: ['*'],
      // The alarms are left to the tag-based deny (CloudWatch evaluates
      // aws:ResourceTag): the local emulator skips AWS::CloudWatch::Alarm and
      // cannot resolve its ARN. Subscriptions' ARNs extend the topic's.
      resources: [
        this.function.functionArn,
        `${this.function.functionArn}:*`,
        this.rule.ruleArn,
        this.role.roleArn,
        this.ownerTopic.topicArn,
        `${this.ownerTopic.topicArn}:*`,
        this.deadLetterQueue.queueArn,
        this.encryptionKey.keyArn,
        this.signingKey.keyArn,
        this.logGroup.logGroupArn,
      ],
    });
  }

  private ledgerTableFrom(props: PermissionSweeperProps): dynamodb.ITable {
    if (props.ledgerTable && props.ledgerTableName !== undefined) {
      throw new Error('PermissionSweeper: pass either ledgerTable or ledgerTableName, not both');
    }
    if (props.ledgerTable) {
      const name = props.ledgerTable.tableName;
      if (Token.isUnresolved(name)) {
        Annotations.of(this).addWarningV2(
          'permission-decay:ledgerTableNameUnresolved',
          `cannot check the ledger table's name at synth; it must start with "${LEDGER_TABLE_NAME_PREFIX}" or governed roles' boundaries will not protect it`,
        );
      } else {
        checkLedgerTableName(name);
      }
      return props.ledgerTable;
    }
    const tableName = props.ledgerTableName ?? `${LEDGER_TABLE_NAME_PREFIX}-${Stack.of(this).stackName}`;
    if (!Token.isUnresolved(tableName)) checkLedgerTableName(tableName);
    return new dynamodb.Table(this, 'Ledger', {
      tableName,
      partitionKey: { name: LEDGER_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The ledger is the only record of what was revoked; it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/**
 * Governed agents of every stack (by their role path: a boundary protects only the sweepers it knows by ARN, and the
 * sweeper's keys carry no tag) can do nothing with a sweeper key: not disable it, schedule its deletion, change its
 * policy or grants, or use it.
 */
function denyGovernedAgents(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGovernedAgents',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:*'],
      resources: ['*'],
      conditions: { ArnLike: { 'aws:PrincipalArn': GOVERNED_ROLES_ARN } },
    }),
  );
}

function checkLedgerTableName(name: string): void {
  if (!name.startsWith(LEDGER_TABLE_NAME_PREFIX)) {
    throw new Error(
      `PermissionSweeper: ledger table name "${name}" must start with "${LEDGER_TABLE_NAME_PREFIX}" ` +
        "(governed roles' permission boundaries deny writing tables with that prefix)",
    );
  }
  if (!DYNAMODB_TABLE_NAME.test(name)) {
    throw new Error(`PermissionSweeper: ledger table name "${name}" is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)`);
  }
}

/** A duration prop as whole seconds, checked; `min` is the least accepted. */
function wholeSeconds(prop: string, value: Duration | undefined, defaultSeconds: number, min: number): number {
  if (value === undefined) return defaultSeconds;
  if (value.isUnresolved()) {
    throw new Error(`PermissionSweeper ${prop} must be a literal duration, not a token`);
  }
  const ms = value.toMilliseconds();
  if (ms % 1000 !== 0 || ms / 1000 < min) {
    throw new Error(`PermissionSweeper ${prop} must be whole seconds, at least ${min}; got ${value.toHumanString()}`);
  }
  return ms / 1000;
}

function timeBudgetMs(timeout: Duration): string {
  if (timeout.isUnresolved()) {
    throw new Error('PermissionSweeper timeout must be a literal duration, not a token');
  }
  return String(timeout.toMilliseconds() - TIME_BUDGET_MARGIN.toMilliseconds());
}

/**
 * The bundled sweeper handler (`npm run build` writes it). Found beside the
 * compiled library (dist/lib → dist/handlers) or, when this file runs as
 * TypeScript (ts-jest), under dist/ of the package.
 */
function sweeperHandlerDir(): string {
  const candidates = [path.join(__dirname, '..', 'handlers', 'sweeper'), path.join(__dirname, '..', 'dist', 'handlers', 'sweeper')];
  const found = candidates.find(dir => fs.existsSync(path.join(dir, 'index.js')));
  if (!found) {
    throw new Error(`PermissionSweeper: the bundled sweeper handler is missing (looked in ${candidates.join(', ')}); run npm run build`);
  }
  return found;
}

/**
 * The activity recorder PermissionSweeper deploys (unless `activity: false`):
 * EventBridge rules on CloudTrail API calls made by governed roles' sessions
 * and on assumptions of governed roles (their delegation session tags), an
 * SQS queue that batches them, and a function that folds each batch into the
 * ledger table (lib/sweeper/activity).
 *
 * Least privilege: the function reads and writes only the activity
 * partitions of the ledger (dynamodb:LeadingKeys), puts only its two event
 * types, and consumes only its queue. Nobody but the two rules can put a
 * message on the queue (a forged CloudTrail event would be recorded as real),
 * and the recorder's role lives under the sweeper path, which governed roles'
 * boundaries deny assuming or passing.
 *
 * Governed agents' boundaries hold the recorder by its component tag
 * (Lambda, SQS, EventBridge and CloudWatch Logs evaluate aws:ResourceTag), not
 * by ARN: a boundary is one managed policy of at most 6,144 characters shared
 * with every ceiling and opt-in, and sending to the queue is refused by the
 * queue's own policy, its items by the ledger-prefix deny.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  ArnFormat,
  Aws,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventSources,
  aws_logs as logs,
  aws_sqs as sqs,
  aws_dynamodb as dynamodb,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EVENT_SOURCE, GOVERNED_ROLE_PATH, SWEEPER_ROLE_PATH } from '../contract';
import {
  ACCESS_REQUESTED_DETAIL_TYPE,
  ACTIVITY_ENV,
  ACTIVITY_WRITE_PARTITIONS,
  CLOUDTRAIL_API_CALL_DETAIL_TYPE,
  NOVEL_ACCESS_DETAIL_TYPE,
} from '../contract/activity';

export interface ActivityRecorderProps {
  readonly ledgerTable: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly baselineWindowSeconds: number;
  readonly logRetention: logs.RetentionDays;
}

/** Statement ids of the recorder's role, for tests and for people reading the policy. */
export const RECORDER_SID = {
  activityItems: 'WriteActivityItems',
  events: 'PutActivityEvents',
} as const;

/** Item actions the recorder needs: a read and a conditional put per aggregate. No update, no delete, no batch write. */
export const RECORDER_LEDGER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'];

/** Calls in a batch at most, and how long the queue gathers them: writes are per aggregate of a batch. */
export const RECORDER_BATCH_SIZE = 1000;
export const RECORDER_BATCHING_WINDOW = Duration.minutes(5);
/** Batches processed at once (the least SQS allows): the per-day write budget scales with it, not with calls. */
export const RECORDER_MAX_CONCURRENCY = 2;

export class ActivityRecorder extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** CloudTrail API calls of governed roles' sessions. */
  public readonly callsRule: events.Rule;
  /** Assumptions of governed roles (their session tags attribute later calls). */
  public readonly assumptionsRule: events.Rule;
  public readonly logGroup: logs.LogGroup;
  /** The event source mapping's ARN (disabling or deleting it would blind the recorder). */
  public readonly eventSourceMappingArn: string;

  constructor(scope: Construct, id: string, props: ActivityRecorderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const governedPrefix = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role${GOVERNED_ROLE_PATH}`;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longer than the function's timeout and batching window (SQS requires it for a Lambda source).
      visibilityTimeout: Duration.minutes(15),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      path: SWEEPER_ROLE_PATH,
      description: 'permission-decay activity recorder: writes only activity items of the ledger and its own events',
    });
    for (const statement of recorderStatements({ ledgerTableArn: props.ledgerTable.tableArn, eventBusArn: props.eventBus.eventBusArn })) {
      this.role.addToPrincipalPolicy(statement);
    }
    this.logGroup.grantWrite(this.role);
    props.ledgerTable.encryptionKey?.grantEncryptDecrypt(this.role);

    this.function = new lambda.Function(this, 'Function', {
      description: "permission-decay activity recorder: folds governed roles' CloudTrail events into the ledger",
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(handlerDir('activity')),
      role: this.role,
      timeout: Duration.minutes(5),
      memorySize: 512,
      logGroup: this.logGroup,
      environment: {
        [ACTIVITY_ENV.ledgerTable]: props.ledgerTable.tableName,
        [ACTIVITY_ENV.eventBusName]: props.eventBus.eventBusName,
        [ACTIVITY_ENV.baselineWindowSeconds]: String(props.baselineWindowSeconds),
        [ACTIVITY_ENV.account]: stack.account,
      },
    });
    const source = new eventSources.SqsEventSource(this.queue, {
      batchSize: RECORDER_BATCH_SIZE,
      maxBatchingWindow: RECORDER_BATCHING_WINDOW,
      maxConcurrency: RECORDER_MAX_CONCURRENCY,
      reportBatchItemFailures: true,
    });
    this.function.addEventSource(source);
    // Built from the mapping's id (Ref), which every CloudFormation implementation resolves, rather than its Arn attribute.
    this.eventSourceMappingArn = stack.formatArn({
      service: 'lambda',
      resource: 'event-source-mapping',
      resourceName: source.eventSourceMappingId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // CloudTrail delivers API calls to the account's default bus only.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.callsRule = new events.Rule(this, 'CallsRule', {
      description: "permission-decay: API calls made by governed roles' sessions, for the activity recorder",
      eventBus: defaultBus,
      eventPattern: {
        detailType: [CLOUDTRAIL_API_CALL_DETAIL_TYPE],
        detail: { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ prefix: governedPrefix }] } } } },
      },
      targets: [new targets.SqsQueue(this.queue)],
    });
    // Read-only management calls (Get*, List*, Describe*) reach EventBridge only for rules in this state.
    (this.callsRule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
    this.assumptionsRule = new events.Rule(this, 'AssumptionsRule', {
      description: 'permission-decay: assumptions of governed roles (delegation session tags), for the activity recorder',
      eventBus: defaultBus,
      eventPattern: {
        source: ['aws.sts'],
        detailType: [CLOUDTRAIL_API_CALL_DETAIL_TYPE],
        detail: { eventName: [{ prefix: 'AssumeRole' }], requestParameters: { roleArn: [{ prefix: governedPrefix }] } },
      },
      targets: [new targets.SqsQueue(this.queue)],
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The handler is bundled for node22 (scripts/bundle-handlers.js) and tested on Node.js 22, a supported runtime; ' +
        'the runtime moves with the bundle target.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the dead-letter queue of the activity recorder's queue; a DLQ needs no DLQ.",
    });
    // Only the two rules put messages: anyone else's message would be recorded as a call the agent made (or hide one).
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheRecorderRulesSend',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnNotEquals: { 'aws:SourceArn': [this.callsRule.ruleArn, this.assumptionsRule.ruleArn] } },
      }),
    );
  }
}

/** The recorder role's own statements (the queue, log group and key grants are added beside them). */
export function recorderStatements(scope: { ledgerTableArn: string; eventBusArn: string }): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: RECORDER_SID.activityItems,
      actions: RECORDER_LEDGER_ACTIONS,
      resources: [scope.ledgerTableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...ACTIVITY_WRITE_PARTITIONS] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }),
    new iam.PolicyStatement({
      sid: RECORDER_SID.events,
      actions: ['events:PutEvents'],
      resources: [scope.eventBusArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'events:source': [EVENT_SOURCE],
          'events:detail-type': [ACCESS_REQUESTED_DETAIL_TYPE, NOVEL_ACCESS_DETAIL_TYPE],
        },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    }),
  ];
}

/** A bundled handler's directory (`npm run build` writes dist/handlers/<name>). */
export function handlerDir(name: string): string {
  const candidates = [path.join(__dirname, '..', '..', 'handlers', name), path.join(__dirname, '..', '..', 'dist', 'handlers', name)];
  const found = candidates.find(dir => fs.existsSync(path.join(dir, 'index.js')));
  if (!found)
    throw new Error(`PermissionSweeper: the bundled ${name} handler is missing (looked in ${candidates.join(', ')}); run npm run build`);
  return found;
}

#!/usr/bin/env node
/**
 * The example app: one stack with two governed agents, each with a baseline
 * and time-bound grants that expire at fixed instants in January 2027. The
 * customer table is in the `pci` regime; ops-bot may delegate to support-bot
 * (and so reaches the customer table through it, an approved crossing). Synth
 * writes the governance report (permission-decay.governance.md) into cdk.out.
 *
 *   node dist/bin/example-app.js                         # synth clock 2027-01-01T00:00:00Z
 *   npx cdk synth -c permission-decay:now=2027-01-02T00:00:00Z
 *
 * Tests and demos import buildExampleApp() and add to the stack it returns
 * (e.g. a PermissionSweeper).
 */
import { App, CfnOutput, DefaultStackSynthesizer, Duration, IStackSynthesizer, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Compliance } from '../lib/compliance';
import { GovernedAgentRole } from '../lib/governed-agent-role';
import { PermissionSweeper } from '../lib/permission-sweeper';
import { EVENT_SOURCE, SYNTH_CLOCK_CONTEXT_KEY } from '../lib/contract';

/** The synth clock the example uses when neither options nor context give one. */
export const EXAMPLE_NOW = '2027-01-01T00:00:00Z';
export const EXAMPLE_STACK_NAME = 'PermissionDecayExample';

/** The example's grants, for tests and the demo script. */
export const EXAMPLE_GRANTS = {
  supportBot: {
    customerDbRead: { name: 'customer-db-read', expiresAt: '2027-01-10T00:00:00Z' },
    refundStatusWrite: { name: 'refund-status-write', expiresAt: '2027-01-05T00:00:00Z' },
  },
  opsBot: {
    incidentLogsWrite: { name: 'incident-logs-write', expiresAt: '2027-01-03T00:00:00Z' },
    runbooksWrite: { name: 'runbooks-write', expiresAt: '2027-01-20T00:00:00Z' },
  },
} as const;

export interface ExampleAppOptions {
  /** The synth clock (ISO-8601 instant). Default: context `permission-decay:now`, else EXAMPLE_NOW. */
  readonly now?: string;
  /** Default: DefaultStackSynthesizer without the bootstrap version rule (the emulator has no bootstrap stack). */
  readonly synthesizer?: IStackSynthesizer;
  /** Default: EXAMPLE_STACK_NAME. */
  readonly stackName?: string;
  /**
   * Put the sweeper's decision events on a bus of the stack's own and copy every one into an SQS queue
   * (stack output DecisionCaptureQueueUrl) that the demo reads back. Default: false (the account's default bus).
   */
  readonly captureDecisions?: boolean;
}

export interface ExampleApp {
  readonly app: App;
  readonly stack: Stack;
  readonly supportBot: GovernedAgentRole;
  readonly opsBot: GovernedAgentRole;
  readonly knowledgeBucket: s3.Bucket;
  readonly customerTable: dynamodb.Table;
  readonly sweeper: PermissionSweeper;
  /** The queue decision events are copied into, when `captureDecisions` is set. */
  readonly decisionCapture?: sqs.Queue;
}

/** Builds the example stack in `app` (a new App when omitted). */
export function buildExampleApp(app: App = new App(), options: ExampleAppOptions = {}): ExampleApp {
  const stack = new Stack(app, options.stackName ?? EXAMPLE_STACK_NAME, {
    synthesizer: options.synthesizer ?? new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    description: 'permission-decay example: two AI agents with baselines and time-bound grants',
  });
  // The stack's context is set before any construct reads it.
  stack.node.setContext(SYNTH_CLOCK_CONTEXT_KEY, options.now ?? app.node.tryGetContext(SYNTH_CLOCK_CONTEXT_KEY) ?? EXAMPLE_NOW);
  // Grant S3 log delivery by bucket policy rather than the legacy ACL.
  stack.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

  const accessLogs = new s3.Bucket(stack, 'AccessLogs', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const knowledgeBucket = new s3.Bucket(stack, 'KnowledgeBase', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'knowledge-base/',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const customerTable = new dynamodb.Table(stack, 'Customers', {
    partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const incidentLogs = new logs.LogGroup(stack, 'IncidentLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const invoker = new iam.AccountRootPrincipal();
  // Customer records are cardholder data; the knowledge base and incident logs have owners but no regime.
  Compliance.of(customerTable).regime('pci', { owner: 'billing-team@example.com' });
  Compliance.of(knowledgeBucket).describe({ owner: 'support-team@example.com' });
  Compliance.of(incidentLogs).describe({ owner: 'sre-oncall@example.com' });

  // support-bot answers customer questions from the knowledge base; billing
  // questions need the customer table for a while.
  const supportBot = new GovernedAgentRole(stack, 'SupportBot', {
    agentId: 'support-bot',
    owner: 'support-team@example.com',
    assumedBy: invoker,
    maxGrantDuration: Duration.days(30),
    complianceRegimes: ['pci'],
  });
  knowledgeBucket.grantRead(supportBot);
  const { customerDbRead, refundStatusWrite } = EXAMPLE_GRANTS.supportBot;
  customerTable.grantReadData(
    supportBot.temporaryGrant(customerDbRead.name, {
      expiresAt: customerDbRead.expiresAt,
      requestedBy: 'alice@example.com',
      ticket: 'SEC-1234',
      reason: 'answer billing questions',
    }),
  );
  supportBot.temporaryGrant(refundStatusWrite.name, {
    expiresAt: refundStatusWrite.expiresAt,
    requestedBy: 'bob@example.com',
    ticket: 'SEC-1240',
    reason: 'mark refunds as processed during the December backlog',
    statements: [
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [customerTable.tableArn],
        // Only the refundStatus attribute; the expiry condition is merged in.
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['customerId', 'refundStatus'] } },
      }),
    ],
  });

  // ops-bot reads metrics and logs; during an incident it may write incident
  // notes and update runbooks.
  const opsBot = new GovernedAgentRole(stack, 'OpsBot', {
    agentId: 'ops-bot',
    owner: 'sre-oncall@example.com',
    assumedBy: invoker,
    maxGrantDuration: Duration.days(21),
    maxRenewals: 2,
    baseline: [
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['logs:FilterLogEvents', 'logs:GetLogEvents'],
        resources: [incidentLogs.logGroupArn],
      }),
    ],
  });
  const { incidentLogsWrite, runbooksWrite } = EXAMPLE_GRANTS.opsBot;
  incidentLogs.grantWrite(
    opsBot.temporaryGrant(incidentLogsWrite.name, {
      expiresAt: incidentLogsWrite.expiresAt,
      requestedBy: 'carol@example.com',
      ticket: 'INC-42',
      reason: 'write incident notes while INC-42 is open',
    }),
  );
  opsBot
    .temporaryGrant(runbooksWrite.name, {
      expiresAt: runbooksWrite.expiresAt,
      requestedBy: 'carol@example.com',
      ticket: 'OPS-77',
      reason: 'update runbooks after the incident review',
    })
    .addStatements(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [knowledgeBucket.arnForObjects('runbooks/*')],
      }),
    );

  // During an incident ops-bot asks support-bot about affected customers: it may assume
  // support-bot's role (with the delegation session tags), and so reach the pci table
  // through it, which the delegation approves.
  opsBot.allowDelegationTo(supportBot, { approvedRegimes: ['pci'] });

  acknowledgeNagFindings(supportBot, opsBot);
  // The sweeper revokes expired grants hourly, makes drift decay and keeps the ledger.
  // With captureDecisions the events go to a bus of their own: on the local emulator (moto 5.2.1) every rule on a bus
  // matches every PutEvents, the schedule rule (always on the default bus) included, and its Lambda target fails the whole
  // call; a separate decision bus is also a normal production choice (the schedule stays on the default bus).
  const decisionBus = options.captureDecisions ? decisionBusOf(stack) : undefined;
  const sweeper = new PermissionSweeper(stack, 'Sweeper', { agents: [supportBot, opsBot], eventBus: decisionBus });
  const decisionCapture = decisionBus ? captureDecisionEvents(stack, decisionBus) : undefined;
  if (decisionBus) sweeper.node.addDependency(decisionBus.node.scope!);

  return { app, stack, supportBot, opsBot, knowledgeBucket, customerTable, sweeper, decisionCapture };
}

/**
 * The decision bus, referred to by its literal name: moto 5.2.1's CloudFormation hands a rule whose EventBusName is a
 * `Ref` to a bus of the same template the bus object instead of its name, and CreateStack fails. The name and an
 * explicit dependency deploy the same on AWS.
 */
function decisionBusOf(stack: Stack): events.IEventBus {
  const name = `${stack.stackName}-decisions`;
  const holder = new Construct(stack, 'Decisions');
  new events.EventBus(holder, 'Bus', { eventBusName: name });
  // Users of the bus (the sweeper, the capture rule) depend on it explicitly: a name is no reference.
  return events.EventBus.fromEventBusName(holder, 'ByName', name);
}

/** A rule on the decision bus that copies every permission-decay event into an SQS queue (read by the demo and its test). */
function captureDecisionEvents(stack: Stack, bus: events.IEventBus): sqs.Queue {
  const queue = new sqs.Queue(stack, 'DecisionCapture', {
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const rule = new events.Rule(stack, 'CaptureDecisions', {
    description: 'Copies every permission-decay decision event into the capture queue',
    eventBus: bus,
    eventPattern: { source: [EVENT_SOURCE] },
    targets: [new eventTargets.SqsQueue(queue)],
  });
  rule.node.addDependency(bus.node.scope!.node.findChild('Bus'));
  new CfnOutput(stack, 'DecisionCaptureQueueUrl', { value: queue.queueUrl, description: 'Where the demo reads decision events back' });
  new CfnOutput(stack, 'DecisionBusName', { value: bus.eventBusName, description: 'The bus the sweeper puts decision events on' });
  return queue;
}

/**
 * The cdk-nag AwsSolutions findings the example accepts, each with its reason
 * (cdk-nag 3 reads acknowledgements from CDK's Validations API).
 */
function acknowledgeNagFindings(supportBot: GovernedAgentRole, opsBot: GovernedAgentRole): void {
  const acknowledge = (scope: Construct, findings: string[], reason: string) => {
    for (const finding of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  };
  acknowledge(
    supportBot.boundary,
    ['Action::*', 'Resource::*'],
    'A permissions boundary only caps what identity policies allow: Allow * on * is the default ceiling, and the boundary exists for its denies.',
  );
  acknowledge(
    supportBot.role,
    ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Resource::<KnowledgeBaseB1C941BD.Arn>/*'],
    'bucket.grantRead: the support agent reads every object of the knowledge base bucket.',
  );
  acknowledge(opsBot.role, ['Resource::*'], 'cloudwatch:GetMetricData and cloudwatch:ListMetrics support no resource-level permissions.');
  acknowledge(
    opsBot.grants.find(g => g.grantName === EXAMPLE_GRANTS.opsBot.runbooksWrite.name)!,
    ['Resource::<KnowledgeBaseB1C941BD.Arn>/runbooks/*'],
    'The runbooks grant writes objects under runbooks/ only, and only until it expires.',
  );
}

// Only when this file is the program: bundled into another tool (the demo's esbuild bundle) `require.main === module`
// holds for the bundle too, and the app would synthesize into ./cdk.out of whatever folder the tool runs in.
if (require.main === module && /example-app\.js$/.test(__filename)) {
  // Run directly (node dist/bin/example-app.js) the app writes to ./cdk.out; under the CDK CLI, where the CLI says.
  buildExampleApp(new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' })).app.synth();
}

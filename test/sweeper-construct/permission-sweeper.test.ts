import { Duration, aws_dynamodb as dynamodb, aws_events as events, aws_iam as iam } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { LEDGER_KEYS, LEDGER_TABLE_NAME_PREFIX, SWEEPER_ENV } from '../../lib/contract';
import { sweeperStack } from './sweeper-fixture';

describe('PermissionSweeper resources', () => {
  const { template, sweeper, stack } = sweeperStack();

  test('the sweeper runs on Node.js 22, one at a time, 512 MB, 5 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 300,
      ReservedConcurrentExecutions: 1,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^SweeperLogGroup') } },
    });
  });

  test('the environment carries every SWEEPER_ENV setting', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [SWEEPER_ENV.ledgerTable]: { Ref: Match.stringLikeRegexp('^SweeperLedger') },
          [SWEEPER_ENV.eventBusName]: 'default',
          [SWEEPER_ENV.ownerTopicArn]: { Ref: Match.stringLikeRegexp('^SweeperOwnerTopic') },
          [SWEEPER_ENV.driftPeriodSeconds]: String(7 * 24 * 3600),
          [SWEEPER_ENV.warningWindowSeconds]: String(3 * 24 * 3600),
          [SWEEPER_ENV.strict]: 'false',
          [SWEEPER_ENV.timeBudgetMs]: String(270_000),
        },
      },
    });
  });

  test('an hourly EventBridge rule starts the sweep; no Scheduler, no custom resources', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperFunction'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperDeadLetterQueue'), 'Arn'] } },
        }),
      ],
    });
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map(r => r.Type);
    expect(types).not.toContain('AWS::Scheduler::Schedule');
    expect(types).not.toContain('AWS::CloudFormation::CustomResource');
    expect(types.filter(t => t.startsWith('Custom::'))).toEqual([]);
    expect(types).not.toContain('AWS::Lambda::LayerVersion');
  });

  test('the ledger: pk/sk strings, on demand, PITR, deletion protection, retained, named with the prefix', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: `${LEDGER_TABLE_NAME_PREFIX}-Governance`,
        KeySchema: [
          { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: LEDGER_KEYS.sortKey, AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  test('the owner topic is KMS-encrypted and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('failed async invocations land in an encrypted, TLS-only dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperDeadLetterQueue'), 'Arn'] } } },
    });
  });

  test('alarms on sweep errors and on dead letters notify the owner topic by default', () => {
    // Errors and dead letters, plus failed revocations, roles that keep failing and ledger conflicts (test/approvals/failure-reporting.test.ts).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^SweeperOwnerTopic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
    });
  });

  test('logs go to an explicit log group with retention (no logRetention custom resource)', () => {
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 365 } });
  });

  test('exposes its parts: each property is the synthesized resource it names', () => {
    expect(sweeper.function.runtime.name).toBe('nodejs22.x');
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    /** The logical id a token of the part resolves to (Ref or GetAtt), and that resource's type. */
    const typeOf = (token: string) => {
      const resolved = JSON.stringify(stack.resolve(token));
      const id = /"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/.exec(resolved)?.[1];
      if (!id || !resources[id]) throw new Error(`${resolved} names no resource`);
      return resources[id].Type;
    };
    expect(typeOf(sweeper.ledgerTable.tableArn)).toBe('AWS::DynamoDB::Table');
    expect(typeOf(sweeper.rule.ruleArn)).toBe('AWS::Events::Rule');
    expect(typeOf(sweeper.ownerTopic.topicArn)).toBe('AWS::SNS::Topic');
    expect(typeOf(sweeper.deadLetterQueue.queueArn)).toBe('AWS::SQS::Queue');
    expect(typeOf(sweeper.alarm.alarmArn)).toBe('AWS::CloudWatch::Alarm');
    expect(typeOf(sweeper.deadLetterQueueAlarm.alarmArn)).toBe('AWS::CloudWatch::Alarm');
    expect(typeOf(sweeper.role.roleArn)).toBe('AWS::IAM::Role');
    // The two alarms are two resources: errors of the function, and dead letters.
    const alarmOf = (a: typeof sweeper.alarm) =>
      resources[/"([A-Za-z0-9]+)"/.exec(JSON.stringify(stack.resolve(a.alarmArn)))![1]].Properties;
    expect(alarmOf(sweeper.alarm).MetricName).toBe('Errors');
    expect(alarmOf(sweeper.deadLetterQueueAlarm).MetricName).toBe('ApproximateNumberOfMessagesVisible');
  });
});

describe('PermissionSweeper props', () => {
  test('schedule, durations, strict, timeout and memory reach the function and rule', () => {
    const { template } = sweeperStack({
      schedule: events.Schedule.rate(Duration.minutes(15)),
      driftPeriod: Duration.days(2),
      warningWindow: Duration.hours(12),
      strict: true,
      timeout: Duration.minutes(10),
      memorySize: 1024,
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 600,
      MemorySize: 1024,
      Environment: {
        Variables: Match.objectLike({
          [SWEEPER_ENV.driftPeriodSeconds]: String(2 * 24 * 3600),
          [SWEEPER_ENV.warningWindowSeconds]: String(12 * 3600),
          [SWEEPER_ENV.strict]: 'true',
          [SWEEPER_ENV.timeBudgetMs]: String(600_000 - 30_000),
        }),
      },
    });
  });

  test('an existing ledger table is used and no table is created', () => {
    const { template } = sweeperStack({}, stack => ({
      ledgerTable: dynamodb.Table.fromTableName(stack, 'Existing', `${LEDGER_TABLE_NAME_PREFIX}-shared`),
    }));
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [SWEEPER_ENV.ledgerTable]: `${LEDGER_TABLE_NAME_PREFIX}-shared` }) },
    });
  });

  test('a custom event bus receives the events', () => {
    const { template } = sweeperStack({}, stack => ({ eventBus: new events.EventBus(stack, 'Bus', { eventBusName: 'governance' }) }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [SWEEPER_ENV.eventBusName]: { Ref: Match.stringLikeRegexp('^Bus') } }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'events:PutEvents',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  test('a named ledger table keeps its name', () => {
    const { template } = sweeperStack({ ledgerTableName: `${LEDGER_TABLE_NAME_PREFIX}-prod` });
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: `${LEDGER_TABLE_NAME_PREFIX}-prod` });
  });
});

describe('PermissionSweeper registration', () => {
  test('registered agents (props and register) are listed in the GovernedAgents output', () => {
    const { app, stack, sweeper } = sweeperStack({}, s => ({
      agents: [{ agentId: 'triage-bot', role: iam.Role.fromRoleName(s, 'Triage', 'triage-bot-role') }],
    }));
    sweeper.register({ agentId: 'deploy-bot', role: iam.Role.fromRoleName(stack, 'Deploy', 'deploy-bot-role') });
    expect(sweeper.governedAgents.map(a => a.agentId)).toEqual(['triage-bot', 'deploy-bot']);
    const outputs = app.synth().getStackByName(stack.stackName).template.Outputs as Record<string, { Value: unknown }>;
    const key = Object.keys(outputs).find(k => k.startsWith('SweeperGovernedAgents'))!;
    const rendered = JSON.stringify(outputs[key].Value);
    expect(rendered).toContain('triage-bot');
    expect(rendered).toContain('role/deploy-bot-role');
  });

  test('registering the same agent id twice throws', () => {
    const { stack, sweeper } = sweeperStack();
    const role = iam.Role.fromRoleName(stack, 'R', 'r');
    sweeper.register({ agentId: 'a', role });
    expect(() => sweeper.register({ agentId: 'a', role })).toThrow(/already registered/);
  });
});

import { Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { Compliance } from '../../lib';
import { TAG_COMPLIANCE, TAG_OWNER } from '../../lib/contract';
import { agent, newApp, synthReport } from '../report/governance-fixtures';

const GRANT = { expiresAt: '2027-01-10T00:00:00Z', requestedBy: 'alice', ticket: 'SEC-7', reason: 'refund investigation' };

function pciApp() {
  const { app, stack } = newApp();
  const cards = new dynamodb.Table(stack, 'Cards', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  Compliance.of(cards).regime('pci', { owner: 'payments@example.com' });
  return { app, stack, cards };
}

describe('Compliance.of', () => {
  test('tags the store with its regime and owner', () => {
    const { stack } = pciApp();
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: [
        { Key: TAG_COMPLIANCE, Value: 'pci' },
        { Key: TAG_OWNER, Value: 'payments@example.com' },
      ],
    });
  });

  test.each([
    [
      'a construct that is not a data store',
      (s: any) => Compliance.of(new iam.Role(s, 'R', { assumedBy: new iam.AccountRootPrincipal() })).regime('pci'),
      /AWS::IAM::Role is not a data store/,
    ],
    ['an empty regime', (s: any) => Compliance.of(new s3.Bucket(s, 'B')).regime(' '), /the regime is empty/],
    ['a regime a tag cannot hold', (s: any) => Compliance.of(new s3.Bucket(s, 'B')).regime('pci!'), /characters IAM refuses/],
  ])('refuses %s', (_what, act, message) => {
    const { stack } = newApp();
    expect(() => act(stack)).toThrow(message);
  });
});

describe('compliance scopes at synth', () => {
  test('a baseline statement reaching a store of a regime the agent does not declare fails synth, naming agent, statement, store, regimes and the fix', () => {
    const { app, stack, cards } = pciApp();
    const a = agent(stack, 'support-bot', { complianceRegimes: ['gdpr'] });
    cards.grantReadData(a);
    expect(() => app.synth()).toThrow(
      /agent "support-bot" \(regimes: "gdpr"\) reaches store "Agents\/Cards" of regime "pci" through its baseline statement on "\$\{Cards[0-9A-F]+\.Arn\}" \(dynamodb:.*\)\. Fix: narrow the statement's resources, add "pci" to the agent's regimes, or approve "pci" on the grant/,
    );
  });

  test('an agent that declares the regime passes', () => {
    const { app, stack, cards } = pciApp();
    cards.grantReadData(agent(stack, 'support-bot', { complianceRegimes: ['PCI'] }));
    const { report } = synthReport(app);
    expect(report.compliance).toEqual({ violations: [], approved: [] });
  });

  test('a grant without an approval fails synth and names the grant; with approvedRegimes it passes and the report lists the approval', () => {
    const unapproved = pciApp();
    unapproved.cards.grantReadData(agent(unapproved.stack, 'support-bot').temporaryGrant('cards-read', GRANT));
    expect(() => unapproved.app.synth()).toThrow(
      /agent "support-bot" \(regimes: none\) reaches store "Agents\/Cards" of regime "pci" through its grant "cards-read"/,
    );

    const approved = pciApp();
    approved.cards.grantReadData(agent(approved.stack, 'support-bot').temporaryGrant('cards-read', { ...GRANT, approvedRegimes: ['pci'] }));
    const { report, markdown } = synthReport(approved.app);
    expect(report.compliance.violations).toEqual([]);
    expect(report.compliance.approved).toEqual([
      expect.objectContaining({
        code: 'REGIME_CROSSING',
        agentId: 'support-bot',
        storeKey: 'Agents/Cards',
        storeRegime: 'pci',
        source: 'grant',
        grantName: 'cards-read',
        approved: true,
      }),
    ]);
    expect(markdown).toContain('## Compliance');
    expect(markdown).toMatch(/\| support-bot \| Agents\/Cards \| pci \| none \| support-bot \(grant cards-read\) \| approved \|/);
  });

  test('a wildcard statement reaches every store of its service, and fails on the regulated one', () => {
    const { app, stack } = pciApp();
    agent(stack, 'ops-bot', { baseline: [new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] })] });
    expect(() => app.synth()).toThrow(
      /agent "ops-bot" .* reaches store "Agents\/Cards" of regime "pci" through its baseline statement on "\*"/,
    );
  });

  test('a store without a regime is never a violation', () => {
    const { app, stack } = newApp();
    const bucket = new s3.Bucket(stack, 'Scratch');
    bucket.grantReadWrite(agent(stack, 'ops-bot'));
    expect(synthReport(app).report.compliance.violations).toEqual([]);
  });

  test('reaching a store through a delegation fails like a direct statement, unless the delegation approves the regime', () => {
    const build = (approvedRegimes?: string[]) => {
      const { app, stack, cards } = pciApp();
      const ops = agent(stack, 'ops-bot');
      const support = agent(stack, 'support-bot', { complianceRegimes: ['pci'] });
      cards.grantReadData(support);
      ops.allowDelegationTo(support, { approvedRegimes });
      return app;
    };
    expect(() => build().synth()).toThrow(
      /GovernedAgentRole 'ops-bot': agent "ops-bot" \(regimes: none\) reaches store "Agents\/Cards" of regime "pci" through delegation "baseline" \(path ops-bot -> support-bot; baseline statement .* of agent "support-bot": .*\)\. Fix: add "pci" to "ops-bot"'s regimes, approve "pci" on the delegation, or remove the delegation/,
    );

    const { report } = synthReport(build(['pci']));
    expect(report.compliance.violations).toEqual([]);
    expect(report.compliance.approved).toEqual([
      expect.objectContaining({ code: 'DELEGATED_REGIME_CROSSING', agentId: 'ops-bot', path: ['ops-bot', 'support-bot'], approved: true }),
    ]);
  });

  test('a regime applied as a plain tag counts too, and account-level actions reach no store', () => {
    const { app, stack } = newApp();
    const group = new logs.LogGroup(stack, 'Audit', { retention: logs.RetentionDays.ONE_YEAR });
    Tags.of(group).add(TAG_COMPLIANCE, 'sox');
    agent(stack, 'ops-bot', { baseline: [new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: ['*'] })] });
    const writer = agent(stack, 'audit-bot');
    group.grantWrite(writer);
    expect(() => app.synth()).toThrow(/agent "audit-bot" .* store "Agents\/Audit" of regime "sox"/);
    expect(() => app.synth()).not.toThrow(/ops-bot/);
  });

  test('a Lambda function is not a store: Compliance.of refuses it', () => {
    const { stack } = newApp();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    expect(() => Compliance.of(fn).regime('pci')).toThrow(/AWS::Lambda::Function is not a data store the inventory knows/);
  });
});

test('an agent refuses an empty compliance regime', () => {
  const { stack } = newApp();
  expect(() => agent(stack, 'ops-bot', { complianceRegimes: [''] })).toThrow(/complianceRegimes has an empty regime/);
});

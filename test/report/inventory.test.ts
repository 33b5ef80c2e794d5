import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Compliance } from '../../lib';
import { agent, newApp, synthReport } from './governance-fixtures';

describe('the store inventory in the emitted report', () => {
  function inventoryApp() {
    const { app, stack } = newApp();
    const notes = new logs.LogGroup(stack, 'Notes', { retention: logs.RetentionDays.ONE_MONTH });
    const archive = new s3.Bucket(stack, 'Archive', { lifecycleRules: [{ expiration: Duration.days(365) }] });
    Compliance.of(archive).regime('gdpr', { owner: 'privacy@example.com', retention: '1 year, then deleted' });
    const outbox = new sqs.Queue(stack, 'Outbox', { retentionPeriod: Duration.days(2) });
    const readOnly = new s3.Bucket(stack, 'ReadOnly');
    const writer = agent(stack, 'writer-bot', {
      complianceRegimes: ['gdpr'],
      baseline: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::someone-elses-bucket/*'] })],
    });
    notes.grantWrite(writer);
    archive.grantPut(
      writer.temporaryGrant('archive-put', {
        expiresAt: '2027-01-08T00:00:00Z',
        requestedBy: 'dora',
        ticket: 'PRIV-1',
        reason: 'archive exports',
      }),
    );
    readOnly.grantRead(writer);
    const caller = agent(stack, 'caller-bot', { complianceRegimes: ['gdpr'] });
    outbox.grantSendMessages(caller);
    caller.allowDelegationTo(writer);
    return synthReport(app);
  }

  test('lists every store an agent can write to, directly and through delegations, with regime, retention and owner or unknown', () => {
    const { report } = inventoryApp();
    const writer = report.agents.find(a => a.agentId === 'writer-bot')!.inventory;
    expect(writer.map(e => [e.name, e.kind, e.regime, e.retention, e.owner, e.known, e.expiresAt ?? 'never'])).toEqual([
      ['Agents/Notes', 'log-group', 'unknown', '30 days', 'unknown', true, 'never'],
      ['Agents/Archive', 's3-bucket', 'gdpr', '1 year, then deleted', 'privacy@example.com', true, '2027-01-08T00:00:00Z'],
      ['arn:aws:s3:::someone-elses-bucket/*', 's3-bucket', 'unknown', 'unknown', 'unknown', false, 'never'],
    ]);
    // Reading is not writing: the read-only bucket is not in the inventory.
    expect(writer.some(e => e.name === 'Agents/ReadOnly')).toBe(false);

    const caller = report.agents.find(a => a.agentId === 'caller-bot')!.inventory;
    expect(caller.map(e => [e.name, e.retention, e.routes.map(r => r.path.join('>')).join(';')])).toEqual([
      ['Agents/Notes', '30 days', 'caller-bot>writer-bot'],
      ['Agents/Archive', '1 year, then deleted', 'caller-bot>writer-bot'],
      ['Agents/Outbox', '2 days', 'caller-bot'],
      ['arn:aws:s3:::someone-elses-bucket/*', 'unknown', 'caller-bot>writer-bot'],
    ]);
  });

  test('the Markdown has a Store inventory section per agent', () => {
    const { markdown } = inventoryApp();
    expect(markdown.match(/### Store inventory: data stores it can write to/g)).toHaveLength(2);
    expect(markdown).toContain('| Agents/Archive | s3-bucket | gdpr | 1 year, then deleted | privacy@example.com |');
    expect(markdown).toContain(
      '| arn:aws:s3:::someone-elses-bucket/* (not a known store) | s3-bucket | unknown | unknown | unknown | s3:PutObject | writer-bot | never |',
    );
  });

  test('retention is read from the resource where it says: bucket lifecycle, log group, queue', () => {
    const { app, stack } = newApp();
    const bucket = new s3.Bucket(stack, 'Exports', { lifecycleRules: [{ expiration: Duration.days(90) }] });
    const forever = new logs.LogGroup(stack, 'Forever', { retention: logs.RetentionDays.INFINITE });
    const writer = agent(stack, 'writer-bot');
    bucket.grantPut(writer);
    forever.grantWrite(writer);
    const inventory = synthReport(app).report.agents[0].inventory;
    expect(Object.fromEntries(inventory.map(e => [e.name, e.retention]))).toEqual({
      'Agents/Exports': 'objects expire after 90 days',
      'Agents/Forever': 'never expires',
    });
  });
});

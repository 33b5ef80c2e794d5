/**
 * `permission-decay status --org` over an organisation on the emulator:
 * N member accounts x M governed roles (one grant each), each account with
 * its member ledger table. Counts every request at the wire (a recording
 * proxy) and times the whole command. Run once, by hand:
 *
 *   node scripts/bundle-tools.js bench/org-status.ts dist/bench/org-status.js && node dist/bench/org-status.js 2x10 5x100 20x500
 *
 * The accounts are built directly (CreateRole, PutRolePolicy, CreateTable as each account), not through the StackSet:
 * the StackSet path is tested in test/organization/org-emulator.test.ts; here only the reading is measured.
 * moto answers GetAccountAuthorizationDetails in one page whatever its size (AWS: pages of up to 1,000 items).
 */
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { main } from '../lib/cli/main';
import {
  formatGrantTag,
  GOVERNED_ROLE_PATH,
  grantDocumentWithExpiry,
  grantTagKey,
  MANAGED_BY_VALUE,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
} from '../lib/contract';
import { MEMBER_LEDGER_TABLE_NAME } from '../lib/private/organization-contract';
import { createClients } from '../lib/sweeper/aws-clients';
import { createLedgerTable } from '../lib/sweeper/ledger';
import { startAwsProxy } from '../test/support/aws-proxy';
import { clientConfig, startMoto } from '../test/support/moto';
import { mapWithConcurrency } from './bounded-concurrency';

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const NOW = '2027-02-01T00:00:00Z';

async function buildAccount(endpoint: string, account: string, roles: number): Promise<void> {
  const sts = new STSClient(clientConfig(endpoint));
  const assume = new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/bench-admin`, RoleSessionName: 'bench' });
  const c = (await sts.send(assume)).Credentials!;
  const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
  // Retries: moto answers an occasional 500 under concurrent IAM writes.
  const clients = createClients({ ...clientConfig(endpoint), maxAttempts: 6, credentials });
  await createLedgerTable(clients.ddb, MEMBER_LEDGER_TABLE_NAME);
  await mapWithConcurrency(
    Array.from({ length: roles }, (_, i) => i),
    8,
    async i => {
      const roleName = `agent-${i}`;
      const expiresAt = i % 5 === 0 ? '2027-01-15T00:00:00Z' : '2027-03-01T00:00:00Z';
      await clients.iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          Path: GOVERNED_ROLE_PATH,
          AssumeRolePolicyDocument: TRUST,
          Tags: [
            { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
            { Key: TAG_AGENT, Value: `bot-${i}` },
            { Key: TAG_OWNER, Value: 'team@example.com' },
            { Key: grantTagKey('read'), Value: formatGrantTag({ expiresAt, requestedBy: 'alice', ticket: 'T-1' }) },
          ],
        }),
      );
      const read = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
      const doc = grantDocumentWithExpiry(read, expiresAt);
      await clients.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'read', PolicyDocument: JSON.stringify(doc) }));
    },
  );
}

async function measure(accounts: number, roles: number) {
  const moto = await startMoto({ timeoutMs: 60_000 });
  try {
    const ids = Array.from({ length: accounts }, (_, i) => String(200000000000 + i));
    const t0 = Date.now();
    await mapWithConcurrency(ids, 2, id => buildAccount(moto.endpoint, id, roles));
    const buildMs = Date.now() - t0;
    const proxy = await startAwsProxy({ target: moto.endpoint });
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => undefined,
      env: {},
      clientSettings: clientConfig(proxy.endpoint),
    };
    const started = process.hrtime.bigint();
    const code = await main(['status', '--org', '--json', '--now', NOW, '--accounts', ids.join(',')], io);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const stats = proxy.stats();
    await proxy.close();
    const result = JSON.parse(out);
    const byService = (s: string) =>
      Object.entries(stats.byAction)
        .filter(([k]) => k.startsWith(`${s}:`))
        .reduce((n, [, v]) => n + v, 0);
    return {
      accounts,
      roles,
      exitCode: code,
      wallMs: Math.round(wallMs),
      buildMs,
      totals: result.totals,
      failedAccounts: result.failedAccounts,
      iamCalls: byService('iam'),
      stsCalls: byService('sts'),
      byAction: stats.byAction,
      requests: stats.requests,
    };
  } finally {
    await moto.stop();
  }
}

async function run(): Promise<void> {
  const shapes = (process.argv.slice(2).length ? process.argv.slice(2) : ['2x10', '5x100', '20x500']).map(s => s.split('x').map(Number));
  for (const [n, m] of shapes) console.log(JSON.stringify(await measure(n, m)));
}

run().catch(e => {
  console.error(e);
  process.exit(1);
});

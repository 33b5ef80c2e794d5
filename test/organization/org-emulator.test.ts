/**
 * An organisation on the emulator: a management account with an OU of two
 * member accounts and one account outside it. The StackSet is created with
 * the properties the synthesized AWS::CloudFormation::StackSet carries (moto's
 * CloudFormation has no StackSet resource type, and no automatic deployment:
 * the test creates the instances for the OU as the service would); then a
 * member account's sweeper revokes an expired grant, its event reaches the
 * central queue, and `status --org` reads every account through its audit role.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import {
  CloudFormationClient,
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetPolicyCommand, GetRoleCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { main } from '../../lib/cli/main';
import { MEMBER_DECISION_BUS_NAME, MEMBER_LEDGER_TABLE_NAME } from '../../lib/private/organization-contract';
import { AwsClients } from '../../lib/sweeper/aws-clients';
import { runSweep } from '../../lib/sweeper/sweep';
import { createGovernedRole, Credentials, memoryIo, testClients } from '../support/governed-fixtures';
import { clientConfig, Moto, startMoto } from '../support/moto';
import { organizationStack } from './org-fixture';

const MANAGEMENT = '123456789012'; // moto's default account: the one that creates the organisation
const NOW = '2027-02-01T00:00:00Z';
let moto: Moto;
let memberA: string;
let memberB: string;
let outsider: string;
let queueName: string;

async function actingIn(account: string): Promise<{ credentials: Credentials; clients: AwsClients }> {
  // moto switches account on AssumeRole into any role ARN of that account.
  const sts = new STSClient(clientConfig(moto.endpoint));
  const r = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/test-admin`, RoleSessionName: 'test' }));
  const c = r.Credentials!;
  const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken } as Credentials;
  return { credentials, clients: testClients(moto.endpoint, credentials) };
}

function zipDirectory(dir: string): Buffer {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pd-org-asset-')), 'asset.zip');
  execFileSync('python3', ['-m', 'zipfile', '-c', out, ...fs.readdirSync(dir).map(e => path.join(dir, e))]);
  const bytes = fs.readFileSync(out);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return bytes;
}

beforeAll(async () => {
  moto = await startMoto();
  const org = new OrganizationsClient(clientConfig(moto.endpoint));
  const organization = (await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }))).Organization!;
  const rootId = (await org.send(new ListRootsCommand({}))).Roots![0].Id!;
  const ou = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'agents' }))).OrganizationalUnit!;
  const create = async (name: string) =>
    (await org.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.AccountId!;
  memberA = await create('member-a');
  memberB = await create('member-b');
  outsider = await create('outsider');
  for (const a of [memberA, memberB])
    await org.send(new MoveAccountCommand({ AccountId: a, SourceParentId: rootId, DestinationParentId: ou.Id! }));

  // The management stack, synthesized for this organisation, deployed as `cdk deploy` would (bootstrap version parameter).
  const { template, org: governed } = organizationStack({ organizationId: organization.Id!, organizationalUnitIds: [ou.Id!] }, MANAGEMENT);
  const mgmt = testClients(moto.endpoint);
  await mgmt.ssm.send(new PutParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '30', Type: 'String' }));
  const json = template.toJSON();
  const [stackSetId, stackSet] = Object.entries<any>(json.Resources).find(([, r]) => r.Type === 'AWS::CloudFormation::StackSet')!;
  delete json.Resources[stackSetId];
  const cfn = new CloudFormationClient({ ...clientConfig(moto.endpoint), maxAttempts: 1 });
  await cfn.send(
    new CreateStackCommand({ StackName: 'Governance', TemplateBody: JSON.stringify(json), Capabilities: ['CAPABILITY_NAMED_IAM'] }),
  );
  expect((await cfn.send(new DescribeStacksCommand({ StackName: 'Governance' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
  queueName = Object.entries<any>(json.Resources).find(([, r]) => r.Type === 'AWS::SQS::Queue')![0];

  // The organisation's asset bucket in the region, holding the sweeper code the member template names.
  const s3 = new S3Client({ ...clientConfig(moto.endpoint), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'pd-org-assets-us-east-1' }));
  const bundle = zipDirectory(path.join(__dirname, '..', '..', 'dist', 'handlers', 'sweeper'));
  for (const o of governed.assetObjects)
    await s3.send(new PutObjectCommand({ Bucket: 'pd-org-assets-us-east-1', Key: o.objectKey, Body: bundle }));

  // The StackSet as the synthesized resource describes it, and the instances automatic deployment would create.
  const p = stackSet.Properties;
  await cfn.send(
    new CreateStackSetCommand({
      StackSetName: p.StackSetName,
      TemplateBody: p.TemplateBody,
      PermissionModel: p.PermissionModel,
      Capabilities: p.Capabilities,
      AutoDeployment: { Enabled: p.AutoDeployment.Enabled, RetainStacksOnAccountRemoval: p.AutoDeployment.RetainStacksOnAccountRemoval },
      CallAs: p.CallAs,
    }),
  );
  const group = p.StackInstancesGroup[0];
  await cfn.send(
    new CreateStackInstancesCommand({
      StackSetName: p.StackSetName,
      DeploymentTargets: { OrganizationalUnitIds: group.DeploymentTargets.OrganizationalUnitIds },
      Regions: group.Regions,
    }),
  );
}, 600_000);

afterAll(async () => {
  await moto?.stop();
});

test('the StackSet puts governance in every account of the OU, and only there', async () => {
  for (const account of [memberA, memberB]) {
    const { clients } = await actingIn(account);
    const table = await clients.ddb.send(new DescribeTableCommand({ TableName: MEMBER_LEDGER_TABLE_NAME }));
    expect(table.Table?.TableArn).toContain(`:${account}:`);
    const audit = await clients.iam.send(new GetRoleCommand({ RoleName: 'permission-decay-audit' }));
    expect(audit.Role?.Arn).toBe(`arn:aws:iam::${account}:role/permission-decay/audit/permission-decay-audit`);
    const boundary = await clients.iam.send(
      new GetPolicyCommand({
        PolicyArn: `arn:aws:iam::${account}:policy/permission-decay/permission-decay-boundary`,
      }),
    );
    expect(boundary.Policy?.PolicyName).toBe('permission-decay-boundary');
  }
  const { clients } = await actingIn(outsider);
  await expect(clients.ddb.send(new DescribeTableCommand({ TableName: MEMBER_LEDGER_TABLE_NAME }))).rejects.toThrow();
});

test("a member's sweeper revokes an expired grant there; the decision reaches the central queue; status --org reads every account", async () => {
  const a = await actingIn(memberA);
  const b = await actingIn(memberB);
  await createGovernedRole(a.clients, {
    agentId: 'billing-bot',
    roleName: 'billing-bot-us-east-1',
    grants: [
      { name: 'old-export', expiresAt: '2027-01-15T00:00:00Z', inSpec: true },
      { name: 'live-read', expiresAt: '2027-03-01T00:00:00Z', inSpec: true },
    ],
  });
  await createGovernedRole(b.clients, {
    agentId: 'support-bot',
    roleName: 'support-bot-us-east-1',
    grants: [{ name: 'kb-read', expiresAt: '2027-02-20T00:00:00Z', inSpec: true }],
  });

  // The sweep code, in process, with member A's credentials and the member template's ledger and bus.
  const result = await runSweep(a.clients, { ledgerTable: MEMBER_LEDGER_TABLE_NAME, eventBusName: MEMBER_DECISION_BUS_NAME, now: NOW });
  expect(result.errors).toEqual([]);
  const left = await a.clients.iam.send(new ListRolePoliciesCommand({ RoleName: 'billing-bot-us-east-1' }));
  expect(left.PolicyNames).not.toContain('old-export');
  expect(left.PolicyNames).toContain('live-read');

  const sqs = new SQSClient(clientConfig(moto.endpoint));
  // CloudFormation names the queue after the stack and the logical id.
  const urls = ((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).filter(u => u.includes(queueName));
  expect(urls).toHaveLength(1);
  const url = urls[0];
  const bodies: any[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    bodies.push(...(r.Messages ?? []).map(m => JSON.parse(m.Body!)));
    if ((r.Messages ?? []).length === 0) break;
  }
  const revoked = bodies.filter(e => e.source === 'permission-decay' && e.detail?.decision === 'revoked');
  expect(revoked.map(e => [e.detail.roleName, e.detail.grant])).toEqual([['billing-bot-us-east-1', 'old-export']]);

  // status --org as the central account: accounts from Organizations; the management and outsider accounts have no governance.
  const io = memoryIo(moto.endpoint);
  const code = await main(['status', '--org', '--json', '--now', NOW], io);
  const out = JSON.parse(io.out());
  const byAccount = Object.fromEntries(out.accounts.map((x: any) => [x.account, x]));
  expect(Object.keys(byAccount).sort()).toEqual([MANAGEMENT, memberA, memberB, outsider].sort());
  expect(byAccount[memberA].ok).toBe(true);
  expect(byAccount[memberA].grants.map((g: any) => [g.roleName, g.grant, g.state])).toEqual([['billing-bot-us-east-1', 'live-read', 'ok']]);
  expect(byAccount[memberB].grants.map((g: any) => [g.roleName, g.grant, g.state])).toEqual([['support-bot-us-east-1', 'kb-read', 'ok']]);
  expect(byAccount[memberA].totals).toEqual({ ok: 1 });
  for (const ungoverned of [MANAGEMENT, outsider]) {
    expect(byAccount[ungoverned].ok).toBe(false);
    expect(byAccount[ungoverned].error.code).toBeTruthy();
  }
  expect(out.totals).toEqual({ ok: 2 });
  expect(out.failedAccounts).toBe(2);
  expect(code).toBe(1);

  // The table view names every account, failed ones with their code, and keeps the others' rows.
  const text = memoryIo(moto.endpoint);
  expect(await main(['status', '--org', '--accounts', `${memberA},${outsider}`, '--now', NOW], text)).toBe(1);
  expect(text.out()).toContain('live-read');
  expect(text.out()).toMatch(new RegExp(`${outsider}\\s+-\\s+failed: `));
  expect(text.err()).toContain(`account ${outsider}`);

  // history --account: member A's ledger through its audit role.
  const h = memoryIo(moto.endpoint);
  expect(await main(['history', '--account', memberA, '--role', 'billing-bot-us-east-1', '--json'], h)).toBe(0);
  const records = JSON.parse(h.out()).records as any[];
  expect(records.filter(r => r.decision === 'revoked').map(r => r.grant)).toEqual(['old-export']);
});

test('bad --accounts is a usage error naming what is wrong', async () => {
  const io = memoryIo(moto.endpoint);
  expect(await main(['status', '--org', '--accounts', '12345,abc'], io)).toBe(2);
  expect(io.err()).toContain('not ids: 12345, abc');
});

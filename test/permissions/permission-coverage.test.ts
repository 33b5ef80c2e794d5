/**
 * Permission coverage: the emulator enforces no IAM, so every AWS call the
 * sweeper and the CLI make here is recorded on the wire and judged by the
 * policy simulator against the synthesized policies of the identity that
 * makes it in production. A call the policy would refuse fails this suite,
 * naming the action and the resource.
 *
 * The sweeper runs as shipped (dist/handlers/sweeper, in a child process,
 * configured from the synthesized function's environment); people run the CLI
 * with their own access keys. Governed roles live under GOVERNED_ROLE_PATH, as
 * GovernedAgentRole creates them.
 */
import { spawn } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, CfnResource, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { CreatePolicyCommand, CreatePolicyVersionCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { GOVERNED_ROLE_PATH, grantTagKey, SWEEPER_ENV } from '../../lib/private/contract';
import { PermissionSweeper } from '../../lib/permission-sweeper';
import { main } from '../../lib/cli/main';
import { createLedgerTable } from '../../lib/sweeper/ledger';
import { createGovernedRole, createIdentity, Credentials, doc, memoryIo, testClients } from '../support/governed-fixtures';
import { Moto, startMoto } from '../support/moto';
import {
  CallRecorder, CoveredIdentity, describeRefusals, judgeCalls, RecordedCall, requiredPermissions, startCallRecorder,
} from '../support/permission-coverage';
import { arnOf, nameOf, resolveIntrinsics, rolePolicies, TemplateJson } from '../support/simulate';

const root = path.resolve(__dirname, '..', '..');
const SWEEPER_BUNDLE = path.join(root, 'dist', 'handlers', 'sweeper', 'index.js');
const FIRST_SIGHT = '2030-01-01T00:00:00Z';
const NOW = '2030-01-10T00:00:00Z';
const EXPIRED = '2030-01-09T00:00:00Z';
const SWEEPER_KEY = { accessKeyId: 'AKIASWEEPERROLE00001', secretAccessKey: 'sweeper-secret' };

/** The people's grants on PermissionSweeper, as the team agreed them. */
type PeopleGrant = 'grantRequest' | 'grantApprove' | 'grantRead';

/**
 * Who runs which CLI command in production, and the grant that gives them
 * the rights to. Adding an identity is one entry here.
 */
const PEOPLE: readonly { readonly identity: string; readonly grant: PeopleGrant; readonly commands: readonly string[] }[] = [
  { identity: 'requester', grant: 'grantRequest', commands: ['request', 'restore'] },
  { identity: 'approver', grant: 'grantApprove', commands: ['renew'] },
  { identity: 'reader', grant: 'grantRead', commands: ['status', 'history'] },
];

interface Synthesized {
  readonly template: TemplateJson;
  readonly sweeper: CoveredIdentity;
  /** Policies and principal per person identity; absent while PermissionSweeper lacks the grant. */
  readonly people: Record<string, Omit<CoveredIdentity, 'accessKeyIds'> | undefined>;
  /** The sweeper function's environment as CloudFormation would set it. */
  readonly sweeperEnv: Record<string, string>;
  readonly topicName: string;
}

const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnResource);

/**
 * Synthesizes a PermissionSweeper (and one role per person, granted through it)
 * in the emulator's account and region, and resolves the policies.
 */
function synthesize(): Synthesized {
  const app = new App();
  const stack = new Stack(app, 'Governance', { env: { account: '123456789012', region: 'us-east-1' } });
  const sweeper = new PermissionSweeper(stack, 'Sweeper', {});
  const personRoles: Record<string, iam.Role> = {};
  for (const person of PEOPLE) {
    const role = new iam.Role(stack, `Person-${person.identity}`, { assumedBy: new iam.AccountRootPrincipal() });
    const grant = (sweeper as unknown as Partial<Record<PeopleGrant, (g: iam.IGrantable) => iam.Grant>>)[person.grant];
    if (typeof grant === 'function') {
      grant.call(sweeper, role);
      personRoles[person.identity] = role;
    }
  }
  const template = app.synth().getStackByName(stack.stackName).template as TemplateJson;
  const roleId = logicalIdOf(stack, sweeper.role);
  const fnId = logicalIdOf(stack, sweeper.function);
  const env = resolveIntrinsics(template, template.Resources[fnId].Properties.Environment.Variables) as Record<string, string>;
  const people: Synthesized['people'] = {};
  for (const person of PEOPLE) {
    const role = personRoles[person.identity];
    if (!role) { people[person.identity] = undefined; continue; }
    const id = logicalIdOf(stack, role);
    people[person.identity] = { name: person.identity, principal: arnOf(template, id), ...rolePolicies(template, id) };
  }
  return {
    template,
    sweeper: {
      name: 'sweeper', principal: arnOf(template, roleId), accessKeyIds: [SWEEPER_KEY.accessKeyId], ...rolePolicies(template, roleId),
    },
    people,
    sweeperEnv: env,
    topicName: nameOf(template, logicalIdOf(stack, sweeper.ownerTopic)),
  };
}

/** Runs the shipped sweeper bundle once, as the Lambda would for a scheduled event at `at`. */
type ChildRun = { code: number | null; stdout: string; stderr: string };
function runSweeperBundle(endpoint: string, env: Record<string, string>, at: string): Promise<ChildRun> {
  const script = 'require(process.argv[1]).handler(JSON.parse(process.argv[2]))'
    + '.then(s => { process.stdout.write(JSON.stringify(s)); process.exit(s.ok ? 0 : 1); }, e => { console.error(e); process.exit(3); })';
  const event = JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: at });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, SWEEPER_BUNDLE, event], {
      env: {
        PATH: process.env.PATH, ...env, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '2',
        AWS_ACCESS_KEY_ID: SWEEPER_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: SWEEPER_KEY.secretAccessKey,
        AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('exit', code => resolve({ code, stdout, stderr }));
  });
}

let moto: Moto;
let recorder: CallRecorder;
let synth: Synthesized;
let calls: RecordedCall[] = [];
const keys: Record<string, Credentials> = {};

beforeAll(async () => {
  synth = synthesize();
  moto = await startMoto();
  recorder = await startCallRecorder(moto.endpoint);
  const direct = testClients(moto.endpoint);
  const ledgerTable = synth.sweeperEnv[SWEEPER_ENV.ledgerTable];
  await createLedgerTable(direct.ddb, ledgerTable);
  const topic = await direct.sns.send(new CreateTopicCommand({ Name: synth.topicName }));
  expect(topic.TopicArn).toBe(synth.sweeperEnv[SWEEPER_ENV.ownerTopicArn]);
  for (const person of PEOPLE) keys[person.identity] = (await createIdentity(direct.iam, `person-${person.identity}`)).credentials;

  // An account in which one sweep takes every kind of step, under the governed path.
  const at = { path: GOVERNED_ROLE_PATH };
  await createGovernedRole(direct, { ...at, agentId: 'p-tamper', grants: [{ name: 'tamper', expiresAt: '2030-01-20T00:00:00Z' }] });
  await createGovernedRole(direct, {
    ...at, agentId: 'p-revoke', baseline: [{ name: 'base' }],
    grants: [{ name: 'old', expiresAt: EXPIRED }, { name: 'p-revoke-mp', kind: 'managed', expiresAt: EXPIRED }],
  });
  await createGovernedRole(direct, { ...at, agentId: 'p-drift', drift: [{ name: 'handmade' }] });
  await createGovernedRole(direct, {
    ...at, agentId: 'p-bad', grants: [{ name: 'bad', expiresAt: '2030-02-01T00:00:00Z', tag: 'expires=2030-02-01 by=bob ticket=T-1' }],
  });
  const renewing = await createGovernedRole(direct, {
    ...at, agentId: 'p-renew', grants: [{ name: 'ren', expiresAt: EXPIRED }, { name: 'p-renew-mp', kind: 'managed', expiresAt: EXPIRED }],
  });
  // A managed grant already at IAM's five versions: renewing it deletes the oldest first.
  for (let i = 0; i < 4; i++) {
    await direct.iam.send(new CreatePolicyVersionCommand({
      PolicyArn: renewing.arns['p-renew-mp'], PolicyDocument: JSON.stringify(doc('s3:GetObject')), SetAsDefault: false,
    }));
  }
  await createGovernedRole(direct, {
    ...at, agentId: 'p-warn', baseline: [{ name: 'base' }], grants: [{ name: 'soon', expiresAt: '2030-01-11T00:00:00Z' }],
  });
  const ghost = { Key: grantTagKey('ghost'), Value: 'expires=2030-02-01T00:00:00Z by=bob ticket=T-1' };
  await direct.iam.send(new TagRoleCommand({ RoleName: 'agent-p-warn', Tags: [ghost] }));
  await createGovernedRole(direct, { ...at, agentId: 'p-spec', grants: [{ name: 'cdk', expiresAt: EXPIRED, inSpec: true }] });
  await createGovernedRole(direct, { ...at, agentId: 'p-request', baseline: [{ name: 'base' }] });

  const cli = async (identity: string, args: string[]) => {
    recorder.during(args[0]);
    const io = memoryIo(recorder.endpoint, keys[identity], { PERMISSION_DECAY_LEDGER_TABLE: ledgerTable });
    const code = await main(args, io);
    if (code !== 0) throw new Error(`${identity}: permission-decay ${args.join(' ')} exited ${code}: ${io.err()}`);
  };
  const sweep = async (when: string) => {
    recorder.during('sweep');
    const run = await runSweeperBundle(recorder.endpoint, synth.sweeperEnv, when);
    if (run.code !== 0) throw new Error(`sweeper bundle exited ${run.code}: ${run.stderr}${run.stdout}`);
  };

  await sweep(FIRST_SIGHT);
  const movedLater = { Key: grantTagKey('tamper'), Value: 'expires=2031-01-01T00:00:00Z by=bob ticket=T-1' };
  await direct.iam.send(new TagRoleCommand({ RoleName: 'agent-p-tamper', Tags: [movedLater] }));
  const dir = mkdtempSync(path.join(tmpdir(), 'pd-perm-'));
  writeFileSync(path.join(dir, 'upload.json'), JSON.stringify(doc(['s3:PutObject'], 'arn:aws:s3:::bucket/*')));
  await cli('requester', ['request', '--role', 'p-request', '--grant', 'upload', '--policy-file', path.join(dir, 'upload.json'),
    '--until', '2030-01-12T00:00:00Z', '--ticket', 'T-7', '--reason', 'nightly upload', '--now', '2030-01-08T00:00:00Z']);
  const attachable = await direct.iam.send(new CreatePolicyCommand({
    PolicyName: 'p-request-ro', PolicyDocument: JSON.stringify(doc('s3:ListBucket')),
  }));
  await cli('requester', ['request', '--role', 'p-request', '--grant', 'p-request-ro', '--policy-arn', attachable.Policy!.Arn!,
    '--until', '2030-01-09T12:00:00Z', '--ticket', 'T-8', '--reason', 'audit', '--now', '2030-01-08T00:00:00Z']);
  for (const grant of ['ren', 'p-renew-mp']) {
    await cli('approver', [
      'renew', '--role', 'p-renew', '--grant', grant, '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9', '--now', '2030-01-08T00:00:00Z',
    ]);
  }
  await sweep(NOW);
  await cli('approver', [
    'renew', '--role', 'p-revoke', '--grant', 'old', '--until', '2030-01-12T00:00:00Z', '--ticket', 'T-3', '--now', NOW,
  ]);
  await cli('requester', ['restore', '--role', 'p-revoke', '--grant', 'old', '--now', NOW]);
  await cli('reader', ['status', '--json', '--now', NOW]);
  await cli('reader', ['history', '--role', 'p-revoke', '--verify', '--at', EXPIRED]);
  calls = recorder.calls();
}, 180_000);

afterAll(async () => {
  await recorder?.close();
  await moto?.stop();
});

const sweeperCalls = () => calls.filter(c => c.accessKeyId === SWEEPER_KEY.accessKeyId);

/**
 * Refusals the suite knows about and the library has not fixed yet. The
 * sweeper renews a customer-managed grant with CreatePolicyVersion (and
 * DeletePolicyVersion at five versions), which its role allows only on
 * policies tagged managed-by; neither CloudFormation (AWS::IAM::ManagedPolicy
 * has no Tags) nor `request --policy-arn` tags a grant policy, so on AWS such
 * a renewal is refused. Each entry must still match, or the test above fails.
 */
const KNOWN_SWEEPER_REFUSALS: RegExp[] = [
  /^sweeper \(during sweep\): iam:CreatePolicyVersion on arn:aws:iam::123456789012:policy\/p-renew-mp is ImplicitlyDenied$/,
  /^sweeper \(during sweep\): iam:DeletePolicyVersion on arn:aws:iam::123456789012:policy\/p-renew-mp is ImplicitlyDenied$/,
];

const opsOf = (cs: readonly RecordedCall[]) => new Set(cs.map(c => `${c.service}:${c.action}`));

describe('the sweeper role allows every call the sweeper makes', () => {
  test('the scenario made every kind of sweeper call (so the judgement below is not vacuous)', () => {
    const ops = opsOf(sweeperCalls());
    for (const op of [
      'iam:GetAccountAuthorizationDetails', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy',
      'iam:TagRole', 'iam:UntagRole', 'iam:CreatePolicyVersion', 'iam:ListPolicyVersions', 'iam:DeletePolicyVersion',
      'dynamodb:TransactWriteItems', 'dynamodb:Query', 'events:PutEvents', 'sns:Publish',
    ]) expect([op, ops.has(op)]).toEqual([op, true]);
    expect([...ops].some(op => op.startsWith('ssm:GetParameter'))).toBe(true);
  });

  test('the simulator allows each of them on the resource it names', async () => {
    const report = await judgeCalls(sweeperCalls(), [synth.sweeper], testClients(moto.endpoint).iam);
    const refused = describeRefusals(report.refusals);
    expect(refused.filter(r => !KNOWN_SWEEPER_REFUSALS.some(k => k.test(r)))).toEqual([]);
    expect(report.allowed.length).toBeGreaterThan(10);
  });

  // A known gap kept visible: when it is fixed this test fails, and the entry goes.
  test('known refusal still refused: a customer-managed grant cannot be renewed (its policy carries no managed-by tag)', async () => {
    const report = await judgeCalls(sweeperCalls(), [synth.sweeper], testClients(moto.endpoint).iam);
    const refused = describeRefusals(report.refusals);
    for (const known of KNOWN_SWEEPER_REFUSALS) expect([known.source, refused.some(r => known.test(r))]).toEqual([known.source, true]);
  });

  test('control: without its tag statement the sweeper role is refused iam:TagRole and iam:UntagRole', async () => {
    const iamClient = testClients(moto.endpoint).iam;
    const stripped = synth.sweeper.identityPolicies.map(p => ({
      ...p, Statement: (p as { Statement: { Sid?: string }[] }).Statement.filter(s => s.Sid !== 'TagGovernedRoleGrants'),
    }));
    const whole = await judgeCalls(sweeperCalls(), [synth.sweeper], iamClient);
    const without = await judgeCalls(sweeperCalls(), [{ ...synth.sweeper, identityPolicies: stripped }], iamClient);
    const before = new Set(describeRefusals(whole.refusals));
    const added = without.refusals.filter(r => !before.has(describeRefusals([r])[0]));
    expect(new Set(added.map(r => r.action))).toEqual(new Set(['iam:TagRole', 'iam:UntagRole']));
    expect(added.every(r => r.resource.includes(`:role${GOVERNED_ROLE_PATH}agent-p-`))).toBe(true);
  });
});

describe('each person\'s grant allows the CLI calls they make', () => {
  for (const person of PEOPLE) {
    const granted = typeof (PermissionSweeper.prototype as unknown as Record<string, unknown>)[person.grant] === 'function';
    const title = `${person.identity} (${person.commands.join(', ')}) through PermissionSweeper.${person.grant}`;
    if (!granted) {
      test.skip(`${title}: skipped, PermissionSweeper.${person.grant} does not exist in this build`, () => undefined);
      continue;
    }
    test(title, async () => {
      const mine = calls.filter(c => c.accessKeyId === keys[person.identity].accessKeyId);
      expect(new Set(mine.map(c => c.during))).toEqual(new Set(person.commands));
      const policies = synth.people[person.identity]!;
      const identity = { ...policies, accessKeyIds: [keys[person.identity].accessKeyId] };
      const report = await judgeCalls(mine, [identity], testClients(moto.endpoint).iam);
      expect(describeRefusals(report.refusals)).toEqual([]);
    });
  }
});

test('every call the people made maps to the IAM actions AWS authorises it as', async () => {
  const iamClient = testClients(moto.endpoint).iam;
  const people = calls.filter(c => c.accessKeyId !== SWEEPER_KEY.accessKeyId);
  expect(new Set(people.map(c => c.during))).toEqual(new Set(PEOPLE.flatMap(p => p.commands)));
  const actions = new Set<string>();
  for (const c of people) for (const need of await requiredPermissions(c, iamClient)) actions.add(need.action);
  for (const a of ['iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:TagRole', 'dynamodb:PutItem', 'dynamodb:Query']) {
    expect([a, actions.has(a)]).toEqual([a, true]);
  }
});

test('every ledger write on the wire is a transaction whose every Put carries a condition (appends never overwrite)', () => {
  const reads = ['Query', 'GetItem', 'BatchGetItem', 'DescribeTable', 'Scan'];
  const ddbWrites = calls.filter(c => c.service === 'dynamodb' && !reads.includes(c.action));
  expect(new Set(ddbWrites.map(c => c.action))).toEqual(new Set(['TransactWriteItems']));
  type Part = { Put?: { ConditionExpression?: string } };
  const puts = ddbWrites.flatMap(c => (c.params.TransactItems as Part[]).filter(i => i.Put).map(i => i.Put!));
  expect(puts.length).toBeGreaterThan(20);
  expect(puts.filter(p => !p.ConditionExpression)).toEqual([]);
});

test('every recorded call belongs to the sweeper or a person in the table (nothing made unjudged)', () => {
  const known = new Set([SWEEPER_KEY.accessKeyId, ...Object.values(keys).map(k => k.accessKeyId)]);
  expect(calls.filter(c => !known.has(c.accessKeyId)).map(c => `${c.service}:${c.action} during ${c.during}`)).toEqual([]);
  expect(calls.length).toBeGreaterThan(50);
});

/**
 * The example app, with its roles under the permission-decay paths, their
 * deterministic names and the sweeper key's policy, deploys to the local
 * emulator's CloudFormation unchanged (moto 5.2.1 accepts `Path` and a
 * `RoleName` joined with the region on AWS::IAM::Role). The emulator
 * evaluates no IAM, so what these policies allow is judged in attacks.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DescribeStackResourcesCommand, CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { buildExampleApp, EXAMPLE_STACK_NAME } from '../../bin/example-app';
import { GOVERNED_ROLE_PATH, SWEEPER_ROLE_PATH } from '../../lib/contract';
import { bootstrapEmulator, deployStack, EmulatorTarget } from '../../demo/emulator-deploy';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { clientConfig, Moto, startMoto } from '../support/moto';
import { buildGovernedApp } from './governed-app';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

test('governed roles and the sweeper role deploy under their paths; the key policy keeps its deny on governed agents', async () => {
  ensureSweeperHandlerBundle();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-paths-'));
  buildExampleApp(new App({ outdir })).app.synth();
  const target: EmulatorTarget = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accountId: '123456789012',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  await bootstrapEmulator(target);
  expect((await deployStack(outdir, EXAMPLE_STACK_NAME, target)).status).toBe('CREATE_COMPLETE');

  const iam = new IAMClient(clientConfig(moto.endpoint));
  for (const name of ['support-bot-us-east-1', 'ops-bot-us-east-1']) {
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    const arn = `arn:aws:iam::123456789012:role${GOVERNED_ROLE_PATH}${name}`;
    expect([role.RoleName, role.Path, role.Arn]).toEqual([name, GOVERNED_ROLE_PATH, arn]);
    expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toMatch(/:policy\//);
  }
  const resources =
    (await new CloudFormationClient(clientConfig(moto.endpoint)).send(new DescribeStackResourcesCommand({ StackName: EXAMPLE_STACK_NAME })))
      .StackResources ?? [];
  const physical = (type: string, prefix: string) =>
    resources.find(r => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix))?.PhysicalResourceId;
  const sweeperRole = (await iam.send(new GetRoleCommand({ RoleName: physical('AWS::IAM::Role', 'SweeperRole')! }))).Role!;
  expect(sweeperRole.Path).toBe(SWEEPER_ROLE_PATH);

  const keyId = physical('AWS::KMS::Key', 'SweeperKey')!;
  // Real KMS answers the policy as a JSON string; moto 5.2.1, for a key CloudFormation created, as the object itself.
  const answered = (await kmsGetKeyPolicy(moto.endpoint, keyId)).Policy;
  const policy = typeof answered === 'string' ? JSON.parse(answered) : answered;
  const deny = policy.Statement.find((s: { Sid?: string }) => s.Sid === 'DenyGovernedAgents');
  const agents = `arn:aws:iam::*:role${GOVERNED_ROLE_PATH}*`;
  expect(deny).toMatchObject({ Effect: 'Deny', Action: 'kms:*', Condition: { ArnLike: { 'aws:PrincipalArn': agents } } });
});

test('delegations in a cycle and across two stacks deploy, each stack on its own, with the delegator pinned in the trust', async () => {
  const governed = buildGovernedApp();
  governed.helper.allowDelegationTo(governed.greedy);
  governed.remote.allowDelegationTo(governed.helper);
  governed.helper.allowDelegationTo(governed.remote);
  const outdir = governed.app.synth().directory;
  const target: EmulatorTarget = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accountId: '123456789012',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  await bootstrapEmulator(target);
  // Either order works: neither stack references the other.
  expect((await deployStack(outdir, 'Elsewhere', target)).status).toBe('CREATE_COMPLETE');
  expect((await deployStack(outdir, 'Agents', target)).status).toBe('CREATE_COMPLETE');

  const iam = new IAMClient(clientConfig(moto.endpoint));
  const trust = (await iam.send(new GetRoleCommand({ RoleName: 'helper-bot-us-east-1' }))).Role!.AssumeRolePolicyDocument!;
  const text = decodeURIComponent(trust);
  for (const delegator of ['greedy-bot', 'remote-bot']) {
    expect(text).toContain(`arn:aws:iam::123456789012:role${GOVERNED_ROLE_PATH}${delegator}-us-east-1`);
  }
});

/**
 * KMS GetKeyPolicy against the emulator, without a KMS client in the
 * dependencies: moto routes by the credential scope's service and checks no
 * signature.
 */
async function kmsGetKeyPolicy(endpoint: string, keyId: string): Promise<{ Policy: unknown }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'TrentService.GetKeyPolicy',
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20270101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({ KeyId: keyId, PolicyName: 'default' }),
  });
  if (!response.ok) throw new Error(`GetKeyPolicy ${keyId}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as { Policy: unknown };
}

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { GetRoleCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { bootstrapEmulator, deployStack, EmulatorTarget } from '../../demo/emulator-deploy';
import { clientConfig, Moto, startMoto } from '../support/moto';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

test('a synthesized stack with a Lambda asset deploys to the emulator unchanged', async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-asm-'));
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, 'DeployProbe', { env: { account: '123456789012', region: 'us-east-1' } });
  const codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-code-'));
  fs.writeFileSync(path.join(codeDir, 'index.js'), 'exports.handler = async () => "ok";');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(codeDir),
  });
  new events.Rule(stack, 'Hourly', { schedule: events.Schedule.rate(cdk.Duration.hours(1)), targets: [new targets.LambdaFunction(fn)] });
  const role = new iam.Role(stack, 'Agent', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  cdk.Tags.of(role).add('governance:agent', 'probe');
  new iam.Policy(stack, 'Grant', {
    policyName: 'g1',
    roles: [role],
    statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })],
  });
  new ssm.StringParameter(stack, 'Spec', { parameterName: '/probe/spec', stringValue: stack.toJsonString({ role: role.roleName }) });
  new cdk.CfnOutput(stack, 'RoleName', { value: role.roleName });
  app.synth();

  const target: EmulatorTarget = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accountId: '123456789012',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  await bootstrapEmulator(target);
  const deployed = await deployStack(outdir, 'DeployProbe', target);
  expect(deployed.status).toBe('CREATE_COMPLETE');
  expect(deployed.assetsPublished).toBeGreaterThanOrEqual(1);

  const roleName = deployed.outputs.RoleName;
  const iamClient = new IAMClient(clientConfig(moto.endpoint));
  const got = await iamClient.send(new GetRoleCommand({ RoleName: roleName }));
  expect(got.Role?.Tags).toEqual(expect.arrayContaining([{ Key: 'governance:agent', Value: 'probe' }]));
  expect((await iamClient.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames).toEqual(['g1']);
  const param = await new SSMClient(clientConfig(moto.endpoint)).send(new GetParameterCommand({ Name: '/probe/spec' }));
  expect(JSON.parse(param.Parameter!.Value!)).toEqual({ role: roleName });
});

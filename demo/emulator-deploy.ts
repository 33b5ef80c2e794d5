/**
 * Deploys a synthesized cloud assembly to the local AWS emulator.
 *
 * The demo goes the way users go: `cdkBootstrap` and `cdkDeploy` run the real
 * AWS CDK CLI (node_modules/aws-cdk) against the emulator. What the emulator
 * (moto 5.2.1) needs, each difference written where it is handled:
 *  - the endpoint's host must be `localhost`: the CLI hands CloudFormation an
 *    S3 URL of the uploaded template, and moto reads it path-style only with
 *    that host (with 127.0.0.1 it reads a bucket named `127`);
 *  - `cdk bootstrap --template emulator/cdk-bootstrap-template.yaml`: the CLI's
 *    own template with the bootstrap roles' inline policies as separate
 *    AWS::IAM::Policy resources (scripts/emulator-bootstrap-template.js says
 *    why: with them inline, IAM GetAccountAuthorizationDetails answers 500);
 *  - `cdk deploy --method=direct` (CreateStack/UpdateStack, no change set):
 *    through a change set moto returns the stack without its outputs;
 *  - the CLI runs in a temporary folder with no cdk.json and is given the
 *    already synthesized assembly (`--app <dir>`), so it neither synthesizes
 *    again nor writes into the clone.
 * On AWS the same two commands run without `--template` and `--method`.
 *
 * `bootstrapEmulator` and `deployStack` below publish and CreateStack without
 * the CLI, for suites that deploy many small stacks and need it fast.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, Output } from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** Client settings for the emulator. */
export interface EmulatorTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
}

/** What the default stack synthesizer's templates expect of a bootstrapped account. */
const BOOTSTRAP_QUALIFIER = 'hnb659fds';
const BOOTSTRAP_VERSION = '30';

interface AssetManifest {
  files?: Record<
    string,
    {
      source: { path: string; packaging?: 'file' | 'zip' };
      destinations: Record<string, { bucketName: string; objectKey: string }>;
    }
  >;
}

export interface DeployedStack {
  readonly stackName: string;
  readonly status: string;
  readonly outputs: Record<string, string>;
  readonly assetsPublished: number;
}

function clients(target: EmulatorTarget) {
  const config = { region: target.region, endpoint: target.endpoint, credentials: target.credentials, forcePathStyle: true };
  return { s3: new S3Client(config), ssm: new SSMClient(config), cfn: new CloudFormationClient(config) };
}

function placeholders(text: string, target: EmulatorTarget): string {
  return text
    .replace(/\$\{AWS::AccountId\}/g, target.accountId)
    .replace(/\$\{AWS::Region\}/g, target.region)
    .replace(/\$\{AWS::Partition\}/g, 'aws');
}

/** Creates what `cdk bootstrap` leaves in an account: the asset bucket and the version parameter. */
export async function bootstrapEmulator(target: EmulatorTarget): Promise<string> {
  const { s3, ssm } = clients(target);
  const bucket = `cdk-${BOOTSTRAP_QUALIFIER}-assets-${target.accountId}-${target.region}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ssm.send(
    new PutParameterCommand({
      Name: `/cdk-bootstrap/${BOOTSTRAP_QUALIFIER}/version`,
      Value: BOOTSTRAP_VERSION,
      Type: 'String',
      Overwrite: true,
    }),
  );
  return bucket;
}

/** Zips a directory asset as the CDK CLI does (contents at the archive root). Uses Python's zipfile: moto needs Python anyway. */
function zipDirectory(dir: string): Buffer {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pd-asset-')), 'asset.zip');
  const entries = fs.readdirSync(dir).map(e => path.join(dir, e));
  execFileSync('python3', ['-m', 'zipfile', '-c', out, ...entries]);
  const bytes = fs.readFileSync(out);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return bytes;
}

/** Publishes a stack's file assets and creates the stack; fails unless it reaches CREATE_COMPLETE. */
export async function deployStack(assemblyDir: string, stackName: string, target: EmulatorTarget): Promise<DeployedStack> {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const artifacts: Record<string, { type: string; properties?: { templateFile?: string; file?: string } }> = manifest.artifacts;
  const stack = artifacts[stackName];
  if (!stack || stack.type !== 'aws:cloudformation:stack' || !stack.properties?.templateFile) {
    throw new Error(`the cloud assembly in ${assemblyDir} has no stack named ${stackName}`);
  }
  const { s3, cfn } = clients(target);

  let published = 0;
  const assetArtifact = artifacts[`${stackName}.assets`];
  if (assetArtifact?.properties?.file) {
    const assets: AssetManifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, assetArtifact.properties.file), 'utf8'));
    for (const asset of Object.values(assets.files ?? {})) {
      const source = path.join(assemblyDir, asset.source.path);
      const body = asset.source.packaging === 'zip' ? zipDirectory(source) : fs.readFileSync(source);
      for (const dest of Object.values(asset.destinations)) {
        await s3.send(
          new PutObjectCommand({
            Bucket: placeholders(dest.bucketName, target),
            Key: placeholders(dest.objectKey, target),
            Body: body,
          }),
        );
      }
      published++;
    }
  }

  const templateBody = fs.readFileSync(path.join(assemblyDir, stack.properties.templateFile), 'utf8');
  await cfn.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: templateBody,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    }),
  );
  const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const s = described.Stacks?.[0];
  if (!s || s.StackStatus !== 'CREATE_COMPLETE') {
    throw new Error(`stack ${stackName} ended ${s?.StackStatus ?? 'missing'}: ${s?.StackStatusReason ?? ''}`);
  }
  const outputs: Record<string, string> = {};
  for (const o of (s.Outputs ?? []) as Output[]) if (o.OutputKey) outputs[o.OutputKey] = o.OutputValue ?? '';
  return { stackName, status: s.StackStatus, outputs, assetsPublished: published };
}

/** Where the CDK CLI and the emulator's bootstrap template are, and where the CLI may write. */
export interface CdkCliSetup {
  /** The repository (or installed package) root that holds node_modules/aws-cdk and emulator/. */
  readonly root: string;
  /** A temporary folder: the CLI's working directory, outputs file. Never the clone. */
  readonly workDir: string;
}

/** The emulator endpoint as the CDK CLI must see it: host `localhost` (moto reads template URLs path-style only then). */
export function cliEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  url.hostname = 'localhost';
  return url.toString().replace(/\/$/, '');
}

/** The command line a person types for `args`, and the CLI's result; throws with the CLI's output when it fails. */
function runCdk(args: string[], target: EmulatorTarget, setup: CdkCliSetup): { commandLine: string; output: string } {
  const cdk = path.join(setup.root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  if (!fs.existsSync(cdk)) throw new Error(`the AWS CDK CLI is missing at ${cdk}: run npm install`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: cliEndpoint(target.endpoint),
    AWS_REGION: target.region,
    AWS_ACCESS_KEY_ID: target.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    // No internet here: no notices fetch, no telemetry.
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    NODE_NO_WARNINGS: '1',
    CI: 'true',
  };
  const run = spawnSync(process.execPath, [cdk, ...args, '--no-notices', '--no-color'], {
    cwd: setup.workDir,
    env,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const shown = args.map(a =>
    a.startsWith(setup.workDir) ? path.basename(a) : a.startsWith(setup.root) ? path.relative(setup.root, a) : a,
  );
  const commandLine = `AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL} npx cdk ${shown.join(' ')}`;
  if (run.status !== 0) {
    throw new Error(`cdk ${args[0]} failed (exit ${run.status ?? run.signal}) against ${env.AWS_ENDPOINT_URL}:\n${output.slice(-4000)}`);
  }
  return { commandLine, output };
}

/** `cdk bootstrap` of the emulator's account and region, with the emulator's bootstrap template. */
export function cdkBootstrap(target: EmulatorTarget, setup: CdkCliSetup): { commandLine: string; output: string } {
  const template = path.join(setup.root, 'emulator', 'cdk-bootstrap-template.yaml');
  if (!fs.existsSync(template)) throw new Error(`the emulator bootstrap template ${template} is missing`);
  return runCdk(['bootstrap', '--template', template, `aws://${target.accountId}/${target.region}`], target, setup);
}

/** `cdk deploy` of one stack of an already synthesized assembly; the stack's outputs from the CLI's outputs file. */
export function cdkDeploy(
  assemblyDir: string,
  stackName: string,
  target: EmulatorTarget,
  setup: CdkCliSetup,
): { commandLine: string; output: string; outputs: Record<string, string> } {
  const outputsFile = path.join(setup.workDir, `${stackName}.outputs.json`);
  const { commandLine, output } = runCdk(
    ['deploy', stackName, '--app', assemblyDir, '--method=direct', '--require-approval', 'never', '--outputs-file', outputsFile],
    target,
    setup,
  );
  const all = JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
  return { commandLine: commandLine.replace(` --app ${path.basename(assemblyDir)}`, ''), output, outputs: all[stackName] ?? {} };
}

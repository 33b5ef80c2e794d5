/**
 * Deploys a synthesized cloud assembly to the local AWS emulator the way
 * `cdk deploy` does to a bootstrapped account: publish the file assets to the
 * bootstrap bucket, then CreateStack with the template, unchanged.
 *
 * "Bootstrapping" the emulator is what `cdk bootstrap` would leave behind that
 * the template refers to: the asset bucket and the bootstrap version parameter
 * (the template's BootstrapVersion parameter reads it from SSM).
 *
 * Emulator differences (moto 5.2.1): CreateStack runs synchronously, so the
 * stack is complete when the call returns; the `Rules` section
 * (CheckBootstrapVersion) is not evaluated; resource types moto lacks (the
 * CloudWatch alarm) are skipped with a warning in moto's log.
 */
import { execFileSync } from 'child_process';
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
  files?: Record<string, {
    source: { path: string; packaging?: 'file' | 'zip' };
    destinations: Record<string, { bucketName: string; objectKey: string }>;
  }>;
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
  await ssm.send(new PutParameterCommand({
    Name: `/cdk-bootstrap/${BOOTSTRAP_QUALIFIER}/version`, Value: BOOTSTRAP_VERSION, Type: 'String', Overwrite: true,
  }));
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
        await s3.send(new PutObjectCommand({
          Bucket: placeholders(dest.bucketName, target), Key: placeholders(dest.objectKey, target), Body: body,
        }));
      }
      published++;
    }
  }

  const templateBody = fs.readFileSync(path.join(assemblyDir, stack.properties.templateFile), 'utf8');
  await cfn.send(new CreateStackCommand({
    StackName: stackName,
    TemplateBody: templateBody,
    Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
  }));
  const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const s = described.Stacks?.[0];
  if (!s || s.StackStatus !== 'CREATE_COMPLETE') {
    throw new Error(`stack ${stackName} ended ${s?.StackStatus ?? 'missing'}: ${s?.StackStatusReason ?? ''}`);
  }
  const outputs: Record<string, string> = {};
  for (const o of (s.Outputs ?? []) as Output[]) if (o.OutputKey) outputs[o.OutputKey] = o.OutputValue ?? '';
  return { stackName, status: s.StackStatus, outputs, assetsPublished: published };
}

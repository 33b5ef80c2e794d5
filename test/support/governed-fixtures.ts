/**
 * Builds governed roles in the emulator with the SDK directly (CreateRole with
 * tags, PutRolePolicy / CreatePolicy + AttachRolePolicy, PutParameter for the
 * approved spec). Reused by the sweeper, benchmark and reliability suites.
 */
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  AgentSpec,
  formatGrantTag,
  GOVERNED_ROLE_PATH,
  grantDocumentWithExpiry,
  grantTagKey,
  MANAGED_BY_VALUE,
  PolicyDocumentJson,
  SpecGrant,
  SpecPolicy,
  specParameterName,
  SPEC_VERSION,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
} from '../../lib/contract';
import { AwsClients, createClients } from '../../lib/sweeper/aws-clients';
import { createLedgerTable } from '../../lib/sweeper/ledger';
import { CliIo, main } from '../../lib/cli/main';
import { atInstant } from './clock';
import { clientConfig, Moto, startMoto } from './moto';

export type Credentials = { accessKeyId: string; secretAccessKey: string };

export function testClients(endpoint: string, credentials?: Credentials): AwsClients {
  return createClients(clientConfig(endpoint, credentials));
}

export function doc(actions: string | string[], resource = '*'): PolicyDocumentJson {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] };
}

export interface FixturePolicy {
  readonly name: string;
  /** @default 'inline' */
  readonly kind?: 'inline' | 'managed';
  /** @default s3:GetObject on * */
  readonly document?: PolicyDocumentJson;
}

export interface FixtureGrant extends FixturePolicy {
  readonly expiresAt: string;
  /** @default 'bob' */
  readonly requestedBy?: string;
  /** @default 'T-1' */
  readonly ticket?: string;
  /** Put the grant in the approved spec too (a CDK grant). @default false */
  readonly inSpec?: boolean;
  /** Raw tag value instead of the formatted one (e.g. malformed), or null for no tag. */
  readonly tag?: string | null;
}

export interface GovernedRoleFixture {
  readonly agentId: string;
  /** @default `agent-${agentId}` */
  readonly roleName?: string;
  /** @default 'owner@example.com' */
  readonly owner?: string;
  readonly baseline?: FixturePolicy[];
  readonly grants?: FixtureGrant[];
  /** Policies added by hand (drift): no tag, not in the spec. */
  readonly drift?: FixturePolicy[];
  /** 'missing': no spec parameter; 'malformed': invalid JSON. @default a valid spec */
  readonly spec?: 'valid' | 'missing' | 'malformed';
  /** @default 30 days */
  readonly maxGrantDurationSeconds?: number;
  /** @default 3 */
  readonly maxRenewals?: number;
  /** IAM path of the role. @default GOVERNED_ROLE_PATH (a governed role); '/' makes a role that only carries the tags */
  readonly path?: string;
}

export interface CreatedRole {
  readonly roleName: string;
  readonly agentId: string;
  readonly spec: AgentSpec;
  /** policy name -> ARN for managed policies */
  readonly arns: Record<string, string>;
}

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** Creates a governed role (and its spec) in the emulator. */
export async function createGovernedRole(clients: { iam: IAMClient; ssm: SSMClient }, f: GovernedRoleFixture): Promise<CreatedRole> {
  const roleName = f.roleName ?? `agent-${f.agentId}`;
  const tags = [
    { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
    { Key: TAG_AGENT, Value: f.agentId },
    { Key: TAG_OWNER, Value: f.owner ?? 'owner@example.com' },
  ];
  for (const g of f.grants ?? []) {
    if (g.tag === null) continue;
    tags.push({
      Key: grantTagKey(g.name),
      Value: g.tag ?? formatGrantTag({ expiresAt: g.expiresAt, requestedBy: g.requestedBy ?? 'bob', ticket: g.ticket ?? 'T-1' }),
    });
  }
  await clients.iam.send(
    new CreateRoleCommand({ RoleName: roleName, Path: f.path ?? GOVERNED_ROLE_PATH, AssumeRolePolicyDocument: TRUST, Tags: tags }),
  );
  const arns: Record<string, string> = {};
  const put = async (p: FixturePolicy, document: PolicyDocumentJson): Promise<SpecPolicy> => {
    const text = JSON.stringify(document);
    if ((p.kind ?? 'inline') === 'inline') {
      await clients.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: p.name, PolicyDocument: text }));
      return { kind: 'inline', name: p.name, document };
    }
    const created = await clients.iam.send(new CreatePolicyCommand({ PolicyName: p.name, PolicyDocument: text }));
    const arn = created.Policy!.Arn!;
    arns[p.name] = arn;
    await clients.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }));
    return { kind: 'managed', name: p.name, arn, document };
  };
  const baseline: SpecPolicy[] = [];
  for (const b of f.baseline ?? []) baseline.push(await put(b, b.document ?? doc('logs:PutLogEvents')));
  const specGrants: SpecGrant[] = [];
  for (const g of f.grants ?? []) {
    const sp = await put(g, grantDocumentWithExpiry(g.document ?? doc('s3:GetObject'), g.expiresAt));
    if (g.inSpec)
      specGrants.push({ ...sp, expiresAt: g.expiresAt, requestedBy: g.requestedBy ?? 'bob', ticket: g.ticket ?? 'T-1', reason: 'fixture' });
  }
  for (const d of f.drift ?? []) await put(d, d.document ?? doc('iam:PassRole'));
  const spec: AgentSpec = {
    v: SPEC_VERSION,
    agentId: f.agentId,
    roleName,
    owner: f.owner ?? 'owner@example.com',
    maxGrantDurationSeconds: f.maxGrantDurationSeconds ?? 30 * 24 * 3600,
    maxRenewals: f.maxRenewals ?? 3,
    baseline,
    grants: specGrants,
  };
  if ((f.spec ?? 'valid') !== 'missing') {
    await clients.ssm.send(
      new PutParameterCommand({
        Name: specParameterName(f.agentId),
        Type: 'String',
        Overwrite: true,
        Value: f.spec === 'malformed' ? '{"v":1, not json' : JSON.stringify(spec),
      }),
    );
  }
  return { roleName, agentId: f.agentId, spec, arns };
}

/** An IAM user with an access key: moto's STS GetCallerIdentity answers with the user's ARN for its key. */
export async function createIdentity(iam: IAMClient, userName: string): Promise<{ arn: string; credentials: Credentials }> {
  const u = await iam.send(new CreateUserCommand({ UserName: userName }));
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return { arn: u.User!.Arn!, credentials: { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! } };
}

export const TEST_LEDGER_TABLE = 'permission-decay-ledger-test';

export async function createTestLedger(clients: AwsClients, table = TEST_LEDGER_TABLE): Promise<string> {
  await createLedgerTable(clients.ddb, table);
  return table;
}

/** An in-memory CLI io bound to the emulator. */
/**
 * Runs the CLI in this process as `credentials` against the emulator at `endpoint`; `at` moves the process's clock
 * for the call (request, renew and restore take no --now: they act at the caller's real time).
 */
export async function runCli(endpoint: string, args: string[], credentials?: Credentials, at?: string) {
  const io = memoryIo(endpoint, credentials);
  const code = at ? await atInstant(at, () => main(args, io)) : await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

export function memoryIo(
  endpoint: string,
  credentials?: Credentials,
  env: NodeJS.ProcessEnv = {},
): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: t => {
      out += t;
    },
    stderr: t => {
      err += t;
    },
    env: { PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE, ...env },
    clientSettings: clientConfig(endpoint, credentials),
    out: () => out,
    err: () => err,
  };
}

/**
 * Registers the hooks an emulator-backed suite needs: one moto_server for the
 * file, reset before each test with a fresh ledger table. `use` receives the
 * server and the clients each time they change.
 */
export function useEmulatorWithLedger(use: (moto: Moto, clients: AwsClients) => void): void {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto!.reset();
    const clients = testClients(moto!.endpoint);
    await createTestLedger(clients);
    use(moto!, clients);
  });
}

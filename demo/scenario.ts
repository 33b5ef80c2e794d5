/**
 * The decay scenario, step by step, against a local AWS emulator:
 *
 *  1. deploy the example app (two agents and a sweeper) with the real AWS CDK
 *     CLI (`cdk bootstrap`, `cdk deploy`); status right after deploy, and the
 *     first scheduled sweep;
 *  2. an engineer requests a time-bound grant via tags; someone adds a policy
 *     by hand with no tag (drift), which the next sweep gives a decay tag;
 *  3. the clock moves: owners are warned before expiry, a second person
 *     renews one grant (a self-approval is refused), an expired grant is
 *     revoked, the renewed one moves its expiry, the drift decays;
 *  4. history shows what an agent held at an instant in the past, and a
 *     revoked grant is restored after a renewal; the ledger chain verifies.
 *
 * Sweeps run the deployed artifact: the sweeper Lambda's code is fetched from
 * the emulator's S3 and invoked with the function's deployed environment and a
 * scheduled event (moto cannot invoke Lambda functions without Docker), in a
 * Node process whose clock harness/shifted-clock.cjs starts at the scenario's
 * instant (the handler bounds the event's time by its own clock).
 * Every claim is checked through the emulator's AWS APIs, not by reading what
 * a command printed; every decision a sweep reports must arrive as an
 * EventBridge event, read back from the capture queue the stack routes the
 * decision bus into.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { buildExampleApp, EXAMPLE_GRANTS, EXAMPLE_NOW, EXAMPLE_STACK_NAME } from '../bin/example-app';
import { grantTagKey, IDENTITY_ENV, LedgerRecord, parseGrantTag, rolePartition, statementsOf, TAG_AGENT } from '../lib/contract';
import { cdkBootstrap, cdkDeploy, EmulatorTarget } from './emulator-deploy';
import { Narrator } from './narrator';

type Credentials = { accessKeyId: string; secretAccessKey: string };

/** The instants of the scenario (the example app is synthesized at EXAMPLE_NOW). */
export const TIMELINE = {
  deployed: EXAMPLE_NOW, // 2027-01-01T00:00:00Z
  firstSweep: '2027-01-01T01:00:00Z',
  requestAndDrift: '2027-01-01T09:00:00Z',
  driftSweep: '2027-01-01T10:00:00Z',
  warningSweep: '2027-01-02T01:00:00Z',
  renewal: '2027-01-02T12:00:00Z',
  expirySweep: '2027-01-05T01:00:00Z',
  driftDecaySweep: '2027-01-08T11:00:00Z',
  historyAt: '2027-01-02T12:00:00Z',
  restore: '2027-01-08T12:00:00Z',
} as const;

export const REQUESTED_GRANT = { name: 'kb-export-read', until: '2027-01-08T00:00:00Z', ticket: 'SEC-1300' };
export const HAND_ADDED_POLICY = 'debug-s3-everything';
export const RENEWED_UNTIL = '2027-01-15T00:00:00Z';
export const RESTORED_UNTIL = '2027-01-12T00:00:00Z';

export interface ScenarioEnvironment {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Where the assembly, the Lambda code and the policy file go. */
  readonly workDir: string;
  /** The built CLI (dist/bin/permission-decay.js). */
  readonly cliPath: string;
  /** The clock harness preloaded into processes that run at a scenario instant. @default harness/shifted-clock.cjs beside dist/ */
  readonly harnessPath?: string;
}

/** What the scenario learned about the deployment, for checks and for tests. */
export interface Deployment {
  readonly roles: { readonly supportBot: string; readonly opsBot: string };
  readonly ledgerTable: string;
  readonly functionName: string;
  /** The SQS queue every decision event is copied into (stack output DecisionCaptureQueueUrl). */
  readonly captureQueueUrl: string;
}

export class DecayScenario {
  readonly target: EmulatorTarget;
  private readonly admin: Credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  private readonly people = new Map<string, Credentials>();
  private deployment?: Deployment;

  constructor(
    private readonly env: ScenarioEnvironment,
    readonly narrator: Narrator,
  ) {
    this.target = { endpoint: env.endpoint, region: env.region, accountId: env.accountId, credentials: this.admin };
  }

  /** The repository root: dist/bin/permission-decay.js is two folders below it. */
  get root(): string {
    return path.resolve(path.dirname(this.env.cliPath), '..', '..');
  }

  get deployed(): Deployment {
    if (!this.deployment) throw new Error('the scenario has not deployed yet');
    return this.deployment;
  }

  /** SDK clients acting as the emulator's administrator (the person watching). */
  clients() {
    const config = { region: this.env.region, endpoint: this.env.endpoint, credentials: this.admin };
    return {
      iam: new IAMClient(config),
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
      cfn: new CloudFormationClient(config),
      lambda: new LambdaClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      sqs: new SQSClient(config),
    };
  }

  // ------------------------------------------------------------------ step 1

  async deploy(): Promise<Deployment> {
    const n = this.narrator;
    n.section(
      '1. Deploy two agents from CDK',
      'The example app (bin/example-app.ts) defines support-bot and ops-bot, each with a baseline and time-bound grants, and a PermissionSweeper.',
    );
    const outdir = path.join(this.env.workDir, 'cdk.out');
    const { app } = buildExampleApp(new App({ outdir }), { now: TIMELINE.deployed, captureDecisions: true });
    app.synth();
    n.say(`Synthesized ${EXAMPLE_STACK_NAME} at the synth clock ${TIMELINE.deployed} into a temporary cdk.out.`);
    const setup = { root: this.root, workDir: this.env.workDir };
    const bootstrap = cdkBootstrap(this.target, setup);
    n.command(bootstrap.commandLine, lastLines(bootstrap.output, 1));
    const deployed = cdkDeploy(outdir, EXAMPLE_STACK_NAME, this.target, setup);
    n.command(deployed.commandLine, lastLines(deployed.output.replace(/\n*✨\s*Total time.*$/s, ''), 6));

    const { cfn } = this.clients();
    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: EXAMPLE_STACK_NAME }))).StackResources ?? [];
    const physical = (type: string, logicalPrefix: string) =>
      resources.find(r => r.ResourceType === type && r.LogicalResourceId?.startsWith(logicalPrefix))?.PhysicalResourceId;
    const supportBot = physical('AWS::IAM::Role', 'SupportBot');
    const opsBot = physical('AWS::IAM::Role', 'OpsBot');
    const ledgerTable = deployed.outputs.SweeperLedgerTableName;
    const captureQueueUrl = deployed.outputs.DecisionCaptureQueueUrl;
    const functionName = physical('AWS::Lambda::Function', 'Sweeper');
    n.check(
      '`cdk deploy` printed the stack outputs SweeperLedgerTableName and DecisionCaptureQueueUrl',
      !!ledgerTable && !!captureQueueUrl,
      JSON.stringify(deployed.outputs),
    );
    if (!supportBot || !opsBot || !ledgerTable || !functionName || !captureQueueUrl) {
      const found = { supportBot, opsBot, ledgerTable, functionName, captureQueueUrl };
      throw new Error(`the deployed stack lacks a resource the scenario needs: ${JSON.stringify(found)}`);
    }
    this.deployment = { roles: { supportBot, opsBot }, ledgerTable, functionName, captureQueueUrl };
    await this.signingKeyForEmulator(functionName);

    for (const [agent, role] of [
      ['support-bot', supportBot],
      ['ops-bot', opsBot],
    ] as const) {
      const tags = await this.roleTags(role);
      n.check(`${agent}'s role ${role} carries governance:agent=${agent}`, tags[TAG_AGENT] === agent);
    }
    for (const [role, grants] of [
      [supportBot, EXAMPLE_GRANTS.supportBot],
      [opsBot, EXAMPLE_GRANTS.opsBot],
    ] as const) {
      for (const g of Object.values(grants)) {
        const expiry = await this.grantExpiry(role, g.name);
        n.check(
          `grant ${g.name} is on the role with expiry tag and date condition ${g.expiresAt}`,
          expiry.tag === g.expiresAt && expiry.condition === g.expiresAt,
          JSON.stringify(expiry),
        );
      }
    }

    n.say('\nStatus right after deploy (as of the synth clock):');
    await this.cli('admin', ['status', '--now', TIMELINE.deployed]);
    n.say('\nThe first scheduled sweep runs (the deployed Lambda, on an EventBridge schedule):');
    const summary = await this.scheduledSweep(TIMELINE.firstSweep);
    n.check(
      'the first sweep records three grants as kept (first seen) and warns the owner of incident-logs-write, two days from expiry',
      summary.decisions.kept === 3 && summary.decisions.warned === 1 && Object.keys(summary.decisions).length === 2,
      JSON.stringify(summary.decisions),
    );
    const opsLedger = await this.ledger(opsBot);
    n.check(
      "the warning is in the ledger for ops-bot's incident-logs-write",
      opsLedger.some(r => r.decision === 'warned' && r.grant === EXAMPLE_GRANTS.opsBot.incidentLogsWrite.name),
    );
    return this.deployment;
  }

  // ------------------------------------------------------------------ step 2

  async requestAndDrift(): Promise<void> {
    const n = this.narrator;
    const { supportBot, opsBot } = this.deployed.roles;
    n.section(
      '2. A grant requested via tags, and a policy added by hand',
      `dave asks for read access to the knowledge base exports for support-bot until ${REQUESTED_GRANT.until}. Someone else attaches a policy to ops-bot directly in IAM, with no tag and no ticket.`,
    );
    const policyFile = path.join(this.env.workDir, 'kb-export-read.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::example-exports/*' }],
        },
        null,
        2,
      ),
    );
    await this.cli(
      'dave',
      [
        'request',
        '--role',
        'support-bot',
        '--grant',
        REQUESTED_GRANT.name,
        '--policy-file',
        policyFile,
        '--until',
        REQUESTED_GRANT.until,
        '--ticket',
        REQUESTED_GRANT.ticket,
        '--reason',
        'export FAQ answers for the knowledge base review',
      ],
      { at: TIMELINE.requestAndDrift },
    );
    const requested = await this.grantExpiry(supportBot, REQUESTED_GRANT.name);
    n.check(
      `support-bot now has ${REQUESTED_GRANT.name} with tag and date condition ${REQUESTED_GRANT.until}, requested by dave`,
      requested.tag === REQUESTED_GRANT.until &&
        requested.condition === REQUESTED_GRANT.until &&
        /:user\/dave$/.test(requested.requestedBy ?? ''),
      JSON.stringify(requested),
    );

    const { iam } = this.clients();
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: opsBot,
        PolicyName: HAND_ADDED_POLICY,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    n.command(
      `aws iam put-role-policy --role-name ${opsBot} --policy-name ${HAND_ADDED_POLICY} --policy-document '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'`,
      '(no output)',
    );

    n.say('\nThe next scheduled sweep notices the hand-added policy:');
    const summary = await this.scheduledSweep(TIMELINE.driftSweep);
    const drift = await this.grantExpiry(opsBot, HAND_ADDED_POLICY);
    n.check('the sweep records drift for the hand-added policy', (summary.decisions.drift ?? 0) === 1, JSON.stringify(summary.decisions));
    n.check(
      'the drift policy now carries a decay tag of sweep time + 7 days (2027-01-08T10:00:00Z)',
      drift.tag === '2027-01-08T10:00:00Z',
      JSON.stringify(drift),
    );
  }

  // ------------------------------------------------------------------ step 3

  async timePasses(): Promise<void> {
    const n = this.narrator;
    const { supportBot, opsBot } = this.deployed.roles;
    const { refundStatusWrite } = EXAMPLE_GRANTS.supportBot;
    const { incidentLogsWrite } = EXAMPLE_GRANTS.opsBot;

    n.section(
      '3a. The clock moves to 2 January: an owner is warned',
      `refund-status-write ends ${refundStatusWrite.expiresAt}: it is now inside the 3-day warning window. (incident-logs-write, ending ${incidentLogsWrite.expiresAt}, was warned for at the first sweep and is not warned for again.)`,
    );
    const warned = await this.scheduledSweep(TIMELINE.warningSweep);
    n.check(
      'the sweep warns the owner of refund-status-write, and nobody else',
      warned.decisions.warned === 1 && Object.keys(warned.decisions).length === 1,
      JSON.stringify(warned.decisions),
    );
    const supportLedger = await this.ledger(supportBot);
    n.check(
      "the warning is in the ledger for support-bot's refund-status-write",
      supportLedger.some(r => r.decision === 'warned' && r.grant === refundStatusWrite.name && r.at === TIMELINE.warningSweep),
    );
    const again = await this.scheduledSweep('2027-01-02T02:00:00Z');
    n.check(
      'an hour later the next sweep changes nothing and warns nobody again',
      Object.keys(again.decisions).length === 0,
      JSON.stringify(again.decisions),
    );

    n.section('3b. A renewal needs a second person', `bob requested refund-status-write. He cannot approve his own renewal; alice can.`);
    const selfApproval = await this.cli(
      'bob',
      ['renew', '--role', 'support-bot', '--grant', refundStatusWrite.name, '--until', RENEWED_UNTIL, '--ticket', 'SEC-1240'],
      { expectExit: 2, at: TIMELINE.renewal },
    );
    n.check("bob's self-approval is refused (exit 2)", selfApproval.status === 2);
    const renewal = await this.cli(
      'alice',
      ['renew', '--role', 'support-bot', '--grant', refundStatusWrite.name, '--until', RENEWED_UNTIL, '--ticket', 'SEC-1240'],
      { at: TIMELINE.renewal },
    );
    n.check("alice's renewal is recorded", renewal.status === 0);

    n.section(
      '3c. The clock moves to 5 January: an expired grant is revoked, a renewed one moves its expiry',
      'Before removing anything, the sweeper writes the policy document to the ledger, so it can be restored exactly.',
    );
    const expired = await this.scheduledSweep(TIMELINE.expirySweep);
    const incidentPolicies = await this.policyNames(opsBot);
    n.check(
      `incident-logs-write (expired ${incidentLogsWrite.expiresAt}) is gone from ops-bot's role, policy and tag`,
      !incidentPolicies.includes(incidentLogsWrite.name) &&
        (await this.roleTags(opsBot))[grantTagKey(incidentLogsWrite.name)] === undefined,
    );
    const revokedRecord = (await this.ledger(opsBot)).find(r => r.decision === 'revoked' && r.grant === incidentLogsWrite.name);
    n.check(
      'the ledger holds the revoked policy document for restore',
      !!revokedRecord?.policy?.document,
      JSON.stringify(revokedRecord?.policy),
    );
    const refund = await this.grantExpiry(supportBot, refundStatusWrite.name);
    n.check(
      `refund-status-write was renewed: tag and date condition both say ${RENEWED_UNTIL}`,
      refund.tag === RENEWED_UNTIL && refund.condition === RENEWED_UNTIL,
      JSON.stringify(refund),
    );
    n.check(
      'the sweep decided revoked once and renewed once',
      expired.decisions.revoked === 1 && expired.decisions.renewed === 1,
      JSON.stringify(expired.decisions),
    );
    n.say('\nStatus on 5 January:');
    await this.cli('admin', ['status', '--now', TIMELINE.expirySweep]);

    n.section('3d. The clock moves to 8 January: the drift and the requested grant decay');
    const decayed = await this.scheduledSweep(TIMELINE.driftDecaySweep);
    n.check(`the hand-added ${HAND_ADDED_POLICY} is revoked from ops-bot`, !(await this.policyNames(opsBot)).includes(HAND_ADDED_POLICY));
    n.check(
      `${REQUESTED_GRANT.name} (expired ${REQUESTED_GRANT.until}) is revoked from support-bot`,
      !(await this.policyNames(supportBot)).includes(REQUESTED_GRANT.name),
    );
    n.check('the sweep decided exactly two revocations', decayed.decisions.revoked === 2, JSON.stringify(decayed.decisions));
  }

  // ------------------------------------------------------------------ step 4

  async historyAndRestore(): Promise<void> {
    const n = this.narrator;
    const { opsBot } = this.deployed.roles;
    const { incidentLogsWrite } = EXAMPLE_GRANTS.opsBot;
    n.section(
      '4. What did ops-bot hold on 2 January, and bringing a grant back',
      'The ledger answers for any instant; a revoked grant comes back only with a renewal approved by someone other than its requester.',
    );
    await this.cli('admin', ['history', '--role', 'ops-bot', '--at', TIMELINE.historyAt]);
    const held = await this.cli('admin', ['history', '--role', 'ops-bot', '--at', TIMELINE.historyAt, '--json'], { quiet: true });
    const heldNames = ((JSON.parse(held.stdout).held ?? []) as { grant: string }[]).map(h => h.grant).sort();
    n.check(
      `on ${TIMELINE.historyAt} ops-bot held incident-logs-write, runbooks-write and the drift policy`,
      JSON.stringify(heldNames) ===
        JSON.stringify([HAND_ADDED_POLICY, incidentLogsWrite.name, EXAMPLE_GRANTS.opsBot.runbooksWrite.name].sort()),
      heldNames.join(', '),
    );

    const refused = await this.cli('carol', ['restore', '--role', 'ops-bot', '--grant', incidentLogsWrite.name], {
      expectExit: 2,
      at: TIMELINE.restore,
    });
    n.check('restore without a renewal is refused', refused.status !== 0);
    await this.cli(
      'dave',
      ['renew', '--role', 'ops-bot', '--grant', incidentLogsWrite.name, '--until', RESTORED_UNTIL, '--ticket', 'INC-42'],
      { at: TIMELINE.restore },
    );
    await this.cli('carol', ['restore', '--role', 'ops-bot', '--grant', incidentLogsWrite.name], { at: TIMELINE.restore });
    const restored = await this.grantExpiry(opsBot, incidentLogsWrite.name);
    const revoked = (await this.ledger(opsBot)).find(r => r.decision === 'revoked' && r.grant === incidentLogsWrite.name);
    const restoredDoc = await this.policyDocument(opsBot, incidentLogsWrite.name);
    const sameStatements =
      JSON.stringify(stripExpiry(restoredDoc)) === JSON.stringify(stripExpiry(JSON.parse(revoked?.policy?.document ?? '{}')));
    n.check(
      `incident-logs-write is back on ops-bot until ${RESTORED_UNTIL} (tag and date condition)`,
      restored.tag === RESTORED_UNTIL && restored.condition === RESTORED_UNTIL,
      JSON.stringify(restored),
    );
    n.check('its statements are exactly those the ledger recorded when it was revoked', sameStatements);

    const verify = await this.cli('admin', [
      'history',
      '--role',
      'ops-bot',
      '--verify',
      ...(this.signingKeyArn ? ['--signing-key', this.signingKeyArn] : []),
    ]);
    n.check("the ledger's hash chain for ops-bot verifies", verify.status === 0);
  }

  // ------------------------------------------------------------- machinery

  /**
   * Emulator only: moto 5.2.1's CloudFormation creates every AWS::KMS::Key as a
   * symmetric ENCRYPT_DECRYPT key (it ignores KeySpec and KeyUsage), so the
   * deployed ledger signing key cannot sign. Create the key the template asks
   * for (ECC_NIST_P256, SIGN_VERIFY) through the KMS API and point the deployed
   * function's environment at it. The demo runs only on the emulator; on AWS
   * the deployed key is used as it is.
   */
  private async signingKeyForEmulator(functionName: string): Promise<void> {
    const { lambda } = this.clients();
    const kms = new KMSClient({ region: this.env.region, endpoint: this.env.endpoint, credentials: this.admin });
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const variables = config.Environment?.Variables ?? {};
    const deployed = variables[IDENTITY_ENV.signingKeyId];
    if (!deployed) return;
    // (DescribeKey on a key that moto's CloudFormation made answers HTTP 500, so the demo does not ask: it always replaces it.)
    const key = await kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Description: 'permission-decay ledger signing (emulator)',
      }),
    );
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: functionName,
        Environment: { Variables: { ...variables, [IDENTITY_ENV.signingKeyId]: key.KeyMetadata!.Arn! } },
      }),
    );
    this.signingKeyArn = key.KeyMetadata!.Arn!;
  }
  private signingKeyArn?: string;

  /** An emulator identity (an IAM user with an access key), created on first use. */
  private async person(name: string): Promise<Credentials> {
    if (name === 'admin') return this.admin;
    const known = this.people.get(name);
    if (known) return known;
    const { iam } = this.clients();
    await iam.send(new CreateUserCommand({ UserName: name }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    const creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    this.people.set(name, creds);
    return creds;
  }

  /** Runs the built permission-decay CLI as `who`, shows the command and its output. */
  async cli(
    who: string,
    args: string[],
    options: { expectExit?: number; quiet?: boolean; at?: string } = {},
  ): Promise<{ status: number; stdout: string }> {
    const creds = await this.person(who);
    // request, renew and restore act at the real time only: the scenario moves their clock with the harness preload.
    // The harness (never shipped) sits at the repository root, beside dist/ that holds the CLI.
    const clock = options.at ? ['--require', path.resolve(this.env.cliPath, '..', '..', '..', 'harness', 'shifted-clock.cjs')] : [];
    const result = spawnSync(process.execPath, [...clock, this.env.cliPath, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: this.env.endpoint,
        AWS_REGION: this.env.region,
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
        AWS_SESSION_TOKEN: '',
        PERMISSION_DECAY_LEDGER_TABLE: this.deployed.ledgerTable,
        NODE_NO_WARNINGS: '1',
        ...(options.at ? { PERMISSION_DECAY_HARNESS_NOW: options.at } : {}),
      },
    });
    const status = result.status ?? 1;
    if (!options.quiet) {
      const shown = args.map(a => (/\s/.test(a) ? `'${a}'` : a.startsWith(this.env.workDir) ? path.basename(a) : a)).join(' ');
      this.narrator.command(`${who === 'admin' ? '' : `(as ${who}) `}permission-decay ${shown}`, `${result.stdout}${result.stderr}`);
    }
    if (status !== (options.expectExit ?? 0)) {
      this.narrator.check(`permission-decay ${args[0]} exits ${options.expectExit ?? 0}`, false, `exit ${status}: ${result.stderr.trim()}`);
    }
    return { status, stdout: result.stdout };
  }

  /**
   * The clock harness (never shipped): preloaded with `node --require`, it starts a process's clock at
   * PERMISSION_DECAY_HARNESS_NOW. The deployed code judges by its clock, so the scenario moves time there.
   */
  harness(at: string): { args: string[]; env: Record<string, string> } {
    const harness = this.env.harnessPath ?? path.resolve(path.dirname(this.env.cliPath), '..', '..', 'harness', 'shifted-clock.cjs');
    if (!fs.existsSync(harness)) throw new Error(`the clock harness ${harness} is missing`);
    return { args: ['--require', harness], env: { PERMISSION_DECAY_HARNESS_NOW: at } };
  }

  /**
   * Runs the deployed sweeper Lambda's code with its deployed environment and a scheduled event at `at`, in a
   * process whose clock the harness set to `at`: the handler honours the event's time only near its own clock.
   */
  async scheduledSweep(at: string): Promise<{ decisions: Record<string, number>; ok: boolean }> {
    const dir = await this.lambdaCode();
    const { lambda } = this.clients();
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: this.deployed.functionName }));
    const event = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', time: at, detail: {} };
    const clock = this.harness(at);
    const run = spawnSync(
      process.execPath,
      [
        ...clock.args,
        '-e',
        `
      require(${JSON.stringify(path.join(dir, 'index.js'))}).handler(${JSON.stringify(event)})
        .then(s => process.stdout.write('\\nSUMMARY ' + JSON.stringify(s) + '\\n'), e => { console.error(e); process.exit(1); });
    `,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          ...config.Environment?.Variables,
          AWS_ENDPOINT_URL: this.env.endpoint,
          AWS_REGION: this.env.region,
          AWS_ACCESS_KEY_ID: this.admin.accessKeyId,
          AWS_SECRET_ACCESS_KEY: this.admin.secretAccessKey,
          NODE_NO_WARNINGS: '1',
          ...clock.env,
        },
      },
    );
    const line = run.stdout.split('\n').find(l => l.startsWith('SUMMARY '));
    if (run.status !== 0 || !line) throw new Error(`the sweeper Lambda failed: ${run.stderr || run.stdout}`);
    const summary = JSON.parse(line.slice('SUMMARY '.length)) as { decisions: Record<string, number>; ok: boolean; errors: unknown[] };
    const text =
      Object.entries(summary.decisions)
        .map(([d, c]) => `${c} ${d}`)
        .join(', ') || 'nothing to do';
    this.narrator.command(
      `(scheduled) ${this.deployed.functionName} at ${at}`,
      `sweep decided: ${text}${summary.errors.length ? `; errors: ${JSON.stringify(summary.errors)}` : ''}`,
    );
    this.narrator.check(`the sweep at ${at} succeeded`, summary.ok, JSON.stringify(summary.errors));
    await this.checkEventsArrived(at, summary.decisions);
    return summary;
  }

  /** Every decision event read back from the capture queue so far. */
  readonly events: { decision: string; grant?: string; roleName: string; at: string }[] = [];

  /** Reads the capture queue until it is empty; the events' details join `events`. */
  async drainCapturedEvents(): Promise<number> {
    const { sqs } = this.clients();
    let read = 0;
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.deployed.captureQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = got.Messages ?? [];
      if (!messages.length) return read;
      for (const m of messages) this.events.push(JSON.parse(m.Body ?? '{}').detail);
      read += messages.length;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.deployed.captureQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }

  /** Each decision kind the sweep at `at` reported arrived as that many events (read back from the capture queue). */
  private async checkEventsArrived(at: string, decisions: Record<string, number>): Promise<void> {
    await this.drainCapturedEvents();
    const arrived: Record<string, number> = {};
    for (const e of this.events.filter(x => x.at === at)) arrived[e.decision] = (arrived[e.decision] ?? 0) + 1;
    for (const [decision, count] of Object.entries(decisions)) {
      this.narrator.check(
        `${count} \`${decision}\` event(s) of this sweep arrived on the decision bus (read back from the capture queue)`,
        arrived[decision] === count,
        JSON.stringify(arrived),
      );
    }
    for (const extra of Object.keys(arrived).filter(d => !(d in decisions))) {
      this.narrator.check(`no \`${extra}\` event arrived for a sweep that decided none`, false, JSON.stringify(arrived));
    }
  }

  private lambdaDir?: string;
  /** Fetches the deployed function's code package from the emulator's S3 (once). */
  private async lambdaCode(): Promise<string> {
    if (this.lambdaDir) return this.lambdaDir;
    const { lambda, s3 } = this.clients();
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: this.deployed.functionName }));
    // moto reports the code location as a URL that ends in the S3 key; the bucket is the bootstrap bucket the asset went to.
    const key = fn.Code?.Location?.split('/').pop();
    if (!key) throw new Error(`the emulator reports no code location for ${this.deployed.functionName}`);
    const bucket = `cdk-hnb659fds-assets-${this.env.accountId}-${this.env.region}`;
    const zip = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
    const dir = fs.mkdtempSync(path.join(this.env.workDir, 'lambda-'));
    fs.writeFileSync(path.join(dir, 'code.zip'), zip);
    execFileSync('python3', ['-m', 'zipfile', '-e', path.join(dir, 'code.zip'), dir]);
    this.lambdaDir = dir;
    return dir;
  }

  async roleTags(roleName: string): Promise<Record<string, string>> {
    const role = (await this.clients().iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    return Object.fromEntries((role?.Tags ?? []).map(t => [t.Key!, t.Value ?? '']));
  }

  async policyNames(roleName: string): Promise<string[]> {
    return (await this.clients().iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  }

  async policyDocument(roleName: string, policyName: string): Promise<{ Statement: Record<string, unknown>[] }> {
    const got = await this.clients().iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    return JSON.parse(decodeURIComponent(got.PolicyDocument ?? '{}'));
  }

  /** A grant's expiry as its tag and its statements' date conditions say (undefined where absent). */
  async grantExpiry(roleName: string, grant: string): Promise<{ tag?: string; condition?: string; requestedBy?: string }> {
    const tagValue = (await this.roleTags(roleName))[grantTagKey(grant)];
    const tag = tagValue ? parseGrantTag(tagValue) : undefined;
    let condition: string | undefined;
    if ((await this.policyNames(roleName)).includes(grant)) {
      const dates = new Set(
        statementsOf((await this.policyDocument(roleName, grant)) as never).map(
          s => ((s.Condition as Record<string, Record<string, string>> | undefined)?.DateLessThan ?? {})['aws:CurrentTime'],
        ),
      );
      condition = dates.size === 1 ? [...dates][0] : `mixed: ${[...dates].join(',')}`;
    }
    return { tag: tag?.expiresAt, condition, requestedBy: tag?.requestedBy };
  }

  async ledger(roleName: string): Promise<LedgerRecord[]> {
    const out = await this.clients().ddb.send(
      new QueryCommand({
        TableName: this.deployed.ledgerTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': rolePartition(roleName) },
      }),
    );
    return (out.Items ?? []) as LedgerRecord[];
  }

  /** The HTML page of each agent's access (`report --html`) from the deployed ledger and the synthesized assembly. */
  async writeHtmlReport(file: string): Promise<void> {
    const run = await this.cli('admin', ['report', '--html', '--assembly', path.join(this.env.workDir, 'cdk.out'), '--out', file], {
      quiet: true,
    });
    this.narrator.check(`report --html wrote ${path.basename(file)}`, run.status === 0 && fs.existsSync(file), run.stdout.trim());
  }
}

/** A document's statements without the expiry condition, to compare a restored grant with what was revoked. */
function stripExpiry(doc: { Statement?: unknown }): unknown {
  return statementsOf(doc as never).map(s => {
    const condition = { ...(s.Condition as Record<string, Record<string, unknown>> | undefined) };
    if (condition.DateLessThan) {
      const rest = { ...condition.DateLessThan };
      delete rest['aws:CurrentTime'];
      if (Object.keys(rest).length) condition.DateLessThan = rest;
      else delete condition.DateLessThan;
    }
    return { ...s, Condition: Object.keys(condition).length ? condition : undefined };
  });
}

/** The last `count` non-empty lines of a command's output. */
function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .filter(l => l.trim())
    .slice(-count)
    .join('\n');
}

export function defaultWorkDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'permission-decay-demo-'));
}

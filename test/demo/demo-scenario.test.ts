/**
 * The demo scenario as a test: the same steps `npm run demo` runs (deployed by
 * the real `cdk bootstrap` and `cdk deploy`, then swept), with the state after
 * each step asserted here through the emulator's AWS APIs (IAM, DynamoDB,
 * SQS), independently of the checks the demo itself prints. Every ledger
 * record must have arrived as an EventBridge event in the capture queue.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { EXAMPLE_GRANTS } from '../../bin/example-app';
import { grantTagKey, parseGrantTag, rolePartition } from '../../lib/contract';
import { Narrator } from '../../demo/narrator';
import { DecayScenario, defaultWorkDir, HAND_ADDED_POLICY, RENEWED_UNTIL, REQUESTED_GRANT, RESTORED_UNTIL } from '../../demo/scenario';
import { clientConfig, Moto, startMoto } from '../support/moto';

const cliPath = path.resolve(__dirname, '../../dist/bin/permission-decay.js');
let moto: Moto;
let scenario: DecayScenario;
let iam: IAMClient;
let ddb: DynamoDBDocumentClient;
let workDir: string;
const printed: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build (npm test does) before this suite`);
  moto = await startMoto();
  iam = new IAMClient(clientConfig(moto.endpoint));
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(moto.endpoint)));
  scenario = new DecayScenario(
    {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accountId: '123456789012',
      workDir: (workDir = defaultWorkDir()),
      cliPath,
    },
    new Narrator(text => printed.push(text)),
  );
});
afterAll(async () => {
  await moto?.stop();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

async function tags(role: string): Promise<Record<string, string>> {
  const r = await iam.send(new GetRoleCommand({ RoleName: role }));
  return Object.fromEntries((r.Role?.Tags ?? []).map(t => [t.Key!, t.Value!]));
}
async function policies(role: string): Promise<string[]> {
  return ((await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []).sort();
}
async function expiryCondition(role: string, policy: string): Promise<string[]> {
  const doc = JSON.parse(
    decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: policy }))).PolicyDocument!),
  );
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return [
    ...new Set<string>(
      statements.map((s: { Condition?: { DateLessThan?: Record<string, string> } }) => s.Condition?.DateLessThan?.['aws:CurrentTime']),
    ),
  ];
}
async function records(role: string): Promise<Record<string, unknown>[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: scenario.deployed.ledgerTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': rolePartition(role) },
    }),
  );
  return out.Items ?? [];
}
async function decisions(role: string): Promise<string[]> {
  return (await records(role)).map(i => `${i.decision}:${i.grant}`);
}
/** Every ledger record of both agents, and every event read back from the capture queue, as role/seq/decision/grant/at. */
async function ledgerAndEvents(): Promise<{ ledger: string[]; events: string[] }> {
  await scenario.drainCapturedEvents();
  const key = (r: { roleName?: unknown; seq?: unknown; decision?: unknown; grant?: unknown; at?: unknown }) =>
    `${r.roleName}#${r.seq} ${r.decision}:${r.grant ?? ''} ${r.at}`;
  const { supportBot, opsBot } = scenario.deployed.roles;
  const ledger = [...(await records(supportBot)), ...(await records(opsBot))].map(key).sort();
  const events = (scenario.events as unknown as Record<string, unknown>[]).map(key).sort();
  return { ledger, events };
}

// The steps build on each other, in order, as the demo runs them: one test, so no test order
// (jest --randomize) can run a step before the one it builds on; each step's state is asserted as it happens.
describe('the demo scenario, asserted through the emulator', () => {
  /** 1. deploy: both agents carry their grants with expiry tags and date conditions */
  const step1 = async (): Promise<void> => {
    const { roles } = await scenario.deploy();
    expect(await policies(roles.supportBot)).toEqual(expect.arrayContaining(['customer-db-read', 'refund-status-write']));
    expect(await policies(roles.opsBot)).toEqual(expect.arrayContaining(['incident-logs-write', 'runbooks-write']));
    const opsTags = await tags(roles.opsBot);
    expect(parseGrantTag(opsTags[grantTagKey('incident-logs-write')]).expiresAt).toBe(EXAMPLE_GRANTS.opsBot.incidentLogsWrite.expiresAt);
    expect(await expiryCondition(roles.opsBot, 'incident-logs-write')).toEqual([EXAMPLE_GRANTS.opsBot.incidentLogsWrite.expiresAt]);
    expect(await decisions(roles.opsBot)).toEqual(['warned:incident-logs-write', 'kept:runbooks-write']);
    expect(scenario.narrator.failures).toEqual([]);
  };

  /** 2. a requested grant and a hand-added policy: the drift gets a decay tag */
  const step2 = async (): Promise<void> => {
    await scenario.requestAndDrift();
    const { supportBot, opsBot } = scenario.deployed.roles;
    expect(await expiryCondition(supportBot, REQUESTED_GRANT.name)).toEqual([REQUESTED_GRANT.until]);
    const drift = parseGrantTag((await tags(opsBot))[grantTagKey(HAND_ADDED_POLICY)]);
    expect(drift).toEqual({ expiresAt: '2027-01-08T10:00:00Z', requestedBy: 'permission-decay/drift', ticket: 'none' });
    // People never write the chain: the sweeper recorded dave's (sealed) request when it first saw the grant.
    expect(await decisions(supportBot)).toContain(`kept:${REQUESTED_GRANT.name}`);
    expect(await decisions(opsBot)).toContain(`drift:${HAND_ADDED_POLICY}`);
    expect(scenario.narrator.failures).toEqual([]);
  };

  /** 3. time passes: warned, renewed by a second person, revoked, drift decays */
  const step3 = async (): Promise<void> => {
    await scenario.timePasses();
    const { supportBot, opsBot } = scenario.deployed.roles;
    expect(await policies(opsBot)).toEqual(['baseline', 'runbooks-write']);
    expect(Object.keys(await tags(opsBot)).filter(k => k.startsWith('governance:grant:'))).toEqual([grantTagKey('runbooks-write')]);
    expect(await policies(supportBot)).not.toContain(REQUESTED_GRANT.name);
    expect(await expiryCondition(supportBot, 'refund-status-write')).toEqual([RENEWED_UNTIL]);
    expect(parseGrantTag((await tags(supportBot))[grantTagKey('refund-status-write')]).expiresAt).toBe(RENEWED_UNTIL);
    const ops = await decisions(opsBot);
    expect(ops.filter(d => d.startsWith('revoked:')).sort()).toEqual([`revoked:${HAND_ADDED_POLICY}`, 'revoked:incident-logs-write']);
    const support = await decisions(supportBot);
    expect(support).toContain('renewed:refund-status-write');
    expect(support.filter(d => d === 'warned:refund-status-write')).toHaveLength(1);
    expect(scenario.narrator.failures).toEqual([]);
  };

  /** 4. history and restore: the revoked grant comes back with the renewal's expiry */
  const step4 = async (): Promise<void> => {
    await scenario.historyAndRestore();
    const { opsBot } = scenario.deployed.roles;
    expect(await policies(opsBot)).toContain('incident-logs-write');
    expect(await expiryCondition(opsBot, 'incident-logs-write')).toEqual([RESTORED_UNTIL]);
    // The renewal and the restore are sealed intents, not chain records; the next sweep records the restored grant.
    expect((await decisions(opsBot)).filter(d => /^(requested|renewal-recorded|restored):/.test(d))).toEqual([]);
    expect((await decisions(opsBot)).slice(-1)).toEqual([`revoked:${HAND_ADDED_POLICY}`]);
    expect(scenario.narrator.failures).toEqual([]);
    expect(printed.join('')).toContain('Chain verified');
  };

  /** Every decision the ledger holds arrived as an event on the decision bus, exactly once, and no other. */
  const eventsArrived = async (): Promise<void> => {
    const { ledger, events } = await ledgerAndEvents();
    expect(ledger.length).toBeGreaterThan(10);
    expect(events).toEqual(ledger);
    for (const kind of ['kept', 'warned', 'renewed', 'revoked', 'drift']) expect(events.some(e => e.includes(` ${kind}:`))).toBe(true);
    expect(printed.join('')).not.toContain('event not delivered');
  };

  test('deploy; request and drift; time passes (warned, renewed, revoked, drift decays); history and restore', async () => {
    await step1();
    await step2();
    await step3();
    await step4();
    await eventsArrived();
  }, 900_000);
});

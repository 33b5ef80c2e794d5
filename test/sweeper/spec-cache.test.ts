/**
 * Specs are read from SSM only when they changed: a steady-state sweep serves
 * them from its cache (counted: no SSM call), and a spec-digest tag that is
 * changed, removed or forged sends the sweep back to SSM, so the sweeper never
 * acts on a cached spec the deploy has replaced. On the emulator with real
 * SDK clients; the agent's side of the attack is judged with the IAM simulator.
 */
import { PutParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm';
import { TagRoleCommand, UntagRoleCommand } from '@aws-sdk/client-iam';
import { AgentSpec, specParameterName, TAG_OWNER, TAG_SPEC_DIGEST } from '../../lib/contract';
import { readRecords } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { CallCounter } from '../support/call-counter';
import { createGovernedRole, testClients, TEST_LEDGER_TABLE, useEmulatorWithLedger } from '../support/governed-fixtures';
import { arnOf } from '../support/simulate';
import { buildGovernedApp, decide, logicalIdOf, simulatedRole, templates } from '../security/governed-app';

let clients: ReturnType<typeof testClients>;
let counter: CallCounter;
useEmulatorWithLedger((_m, c) => {
  counter = new CallCounter();
  clients = { ...c, ssm: counter.attach(c.ssm), ddb: counter.attach(c.ddb) };
});

const ROLES = 25;
// Sweeps an hour apart (the cache is read in full at least once a day).
const at = (hour: number) => `2030-01-01T${String(hour).padStart(2, '0')}:00:00Z`;

/** What a deploy writes: the spec with its digest in SSM, and the same digest tagged on the role. */
async function deploy(spec: AgentSpec, digest: string): Promise<void> {
  await clients.ssm.send(
    new PutParameterCommand({
      Name: specParameterName(spec.agentId),
      Type: 'String',
      Overwrite: true,
      Value: JSON.stringify({ ...spec, digest }),
    }),
  );
  await clients.iam.send(new TagRoleCommand({ RoleName: spec.roleName, Tags: [{ Key: TAG_SPEC_DIGEST, Value: digest }] }));
}

async function account(): Promise<AgentSpec[]> {
  const specs: AgentSpec[] = [];
  for (let i = 0; i < ROLES; i++) {
    const created = await createGovernedRole(clients, { agentId: `bot-${i}`, baseline: [{ name: 'baseline' }] });
    await deploy(created.spec, `digest-${i}-a`);
    specs.push(created.spec);
  }
  return specs;
}

const ssmCalls = () => counter.total({ service: 'ssm' });

async function sweep(hour: number) {
  const before = ssmCalls();
  const result = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: at(hour) });
  expect(result.errors).toEqual([]);
  return { result, ssm: ssmCalls() - before };
}

test('a steady-state sweep makes no SSM call; the first one reads every spec', async () => {
  await account();
  const first = await sweep(1);
  expect(first.ssm).toBeGreaterThanOrEqual(Math.ceil(ROLES / 10)); // GetParametersByPath pages of at most 10
  const second = await sweep(2);
  expect(second.ssm).toBe(0);
  const third = await sweep(3);
  expect(third.ssm).toBe(0);
});

test('attack: a digest tag changed to a forged value sends the sweep to SSM', async () => {
  const specs = await account();
  await sweep(1);
  await clients.iam.send(new TagRoleCommand({ RoleName: specs[3].roleName, Tags: [{ Key: TAG_SPEC_DIGEST, Value: 'digest-forged' }] }));
  expect((await sweep(2)).ssm).toBeGreaterThan(0);
  await clients.iam.send(new UntagRoleCommand({ RoleName: specs[4].roleName, TagKeys: [TAG_SPEC_DIGEST] }));
  expect((await sweep(3)).ssm).toBeGreaterThan(0);
});

test('a deploy that changes a spec is read and acted on at the next sweep, not the cached spec', async () => {
  const specs = await account();
  await sweep(1);
  expect((await sweep(2)).ssm).toBe(0);
  // The deploy moves the owner: the role's owner tag still says the old one, so the new spec makes it tampering to put back.
  const changed = { ...specs[7], owner: 'new-owner@example.com' };
  await deploy(changed, 'digest-7-b');
  const third = await sweep(3);
  expect(third.ssm).toBeGreaterThan(0);
  const records = await readRecords(clients.ddb, TEST_LEDGER_TABLE, changed.roleName);
  expect(records.filter(r => r.decision === 'tampering').map(r => r.message)).toEqual([
    expect.stringContaining(`${TAG_OWNER} was changed to "owner@example.com" (put back: new-owner@example.com)`),
  ]);
  // And the cache now holds the new spec: the next sweep is quiet again.
  expect((await sweep(4)).ssm).toBe(0);
});

test('a deploy seen half-way (tag updated, parameter not yet) is read again, never cached under the new digest', async () => {
  const specs = await account();
  await sweep(1);
  await clients.iam.send(new TagRoleCommand({ RoleName: specs[2].roleName, Tags: [{ Key: TAG_SPEC_DIGEST, Value: 'digest-2-b' }] }));
  expect((await sweep(2)).ssm).toBeGreaterThan(0);
  expect((await sweep(3)).ssm).toBeGreaterThan(0);
  // The parameter arrives: from now on the cache serves.
  const value = JSON.parse(
    (await clients.ssm.send(new GetParameterCommand({ Name: specParameterName(specs[2].agentId) }))).Parameter!.Value!,
  );
  await deploy({ ...value }, 'digest-2-b');
  expect((await sweep(4)).ssm).toBeGreaterThan(0);
  expect((await sweep(5)).ssm).toBe(0);
});

describe("the digest tag is out of the agent's reach", () => {
  const governed = buildGovernedApp();
  const { agents } = templates(governed);
  const greedy = simulatedRole(agents, governed.greedy.role);

  test.each(['iam:TagRole', 'iam:UntagRole'])('attack: %s of governance:spec-digest on its own role is denied', async action => {
    const context = { 'aws:TagKeys': [TAG_SPEC_DIGEST], [`aws:RequestTag/${TAG_SPEC_DIGEST}`]: 'digest-of-an-older-spec' };
    expect(await decide(greedy, { action, resource: greedy.arn, context })).toBe('ExplicitlyDenied');
  });

  test("control: the sweeper's role may read and write its spec cache in the ledger table (Query, PutItem)", async () => {
    const sweeper = simulatedRole(agents, governed.sweeper.role);
    const table = arnOf(agents, logicalIdOf(governed.sweeper.ledgerTable as unknown as { node: { defaultChild?: unknown } }));
    for (const action of ['dynamodb:Query', 'dynamodb:PutItem']) {
      expect([action, await decide(sweeper, { action, resource: table })]).toEqual([action, 'Allowed']);
    }
  });

  test('control: the deploy writes the digest on the role and the same digest in the spec parameter', () => {
    const resources = Object.values(agents.Resources) as { Type: string; Properties: Record<string, unknown> }[];
    const role = resources.find(
      r =>
        r.Type === 'AWS::IAM::Role' &&
        (r.Properties.Tags as { Key: string; Value: unknown }[] | undefined)?.some(t => t.Key === 'governance:agent'),
    )!;
    const tag = (role.Properties.Tags as { Key: string; Value: unknown }[]).find(t => t.Key === TAG_SPEC_DIGEST)!;
    expect(tag.Value).toMatch(/^[0-9a-f]{64}$/);
    const params = resources.filter(r => r.Type === 'AWS::SSM::Parameter');
    expect(params.some(p => JSON.stringify(p.Properties.Value).includes(String(tag.Value)))).toBe(true);
  });
});

test('a day after the last full read, every spec is read again whatever the tags say', async () => {
  await account();
  await sweep(1);
  expect((await sweep(2)).ssm).toBe(0);
  const dayLater = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-02T01:00:00Z' });
  expect(dayLater.errors).toEqual([]);
  expect(counter.calls('GetParametersByPath', 'ssm')).toBeGreaterThanOrEqual(2 * Math.ceil(ROLES / 10));
});

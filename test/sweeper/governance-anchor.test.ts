/**
 * Governance that holds against the governed, on the emulator with real SDK
 * clients: the governed path is the anchor (tags are hints), the Lambda's
 * clock cannot be moved by a forged event, and every grant and drift ends in
 * IAM at its expiry on its own (the date condition is read back from IAM).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { GOVERNED_ROLE_PATH, LedgerRecord } from '../../lib/contract';
import { main } from '../../lib/cli/main';
import { readRecords } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { createGovernedRole, doc, memoryIo, testClients, TEST_LEDGER_TABLE, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
/** Every decision event the sweeper sent, read off the real PutEvents requests that reached the emulator. */
let sentEvents: { decision: string; roleName: string; governanceTags?: Record<string, string> }[];
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
  sentEvents = [];
  clients.events.middlewareStack.add(
    next => async args => {
      const input = args.input as { Entries?: { Detail?: string }[] };
      const result = await next(args);
      if (input?.Entries) {
        const output = result.output as { FailedEntryCount?: number };
        if (!output.FailedEntryCount) for (const e of input.Entries) if (e.Detail) sentEvents.push(JSON.parse(e.Detail));
      }
      return result;
    },
    { step: 'initialize', name: 'recordSentEvents' },
  );
});

const NOW = '2030-01-10T00:00:00Z';

async function sweepAt(now: string) {
  const result = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now });
  expect(result.errors).toEqual([]);
  return result.outcomes.map(o => `${o.decision}:${o.grant ?? ''}`);
}
async function tags(roleName: string): Promise<Record<string, string>> {
  const t = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [];
  return Object.fromEntries(t.map(x => [x.Key!, x.Value!]));
}
async function inlineNames(roleName: string): Promise<string[]> {
  return ((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? []).sort();
}
async function inlineDoc(roleName: string, name: string): Promise<{ Statement: { Condition?: Record<string, Record<string, string>> }[] }> {
  return JSON.parse(
    decodeURIComponent((await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))).PolicyDocument!),
  );
}
async function records(roleName: string): Promise<LedgerRecord[]> {
  return readRecords(clients.ddb, TEST_LEDGER_TABLE, roleName);
}
/** The aws:CurrentTime bound of every statement, as IAM would read it. */
const bounds = (d: { Statement: { Condition?: Record<string, Record<string, string>> }[] }) =>
  d.Statement.map(s => s.Condition?.DateLessThan?.['aws:CurrentTime']);

describe('the governed path is the anchor', () => {
  test('fixtures create governed roles under the governed path', async () => {
    const r = await createGovernedRole(clients, { agentId: 'p1' });
    expect((await clients.iam.send(new GetRoleCommand({ RoleName: r.roleName }))).Role!.Path).toBe('/permission-decay/agents/');
    expect(GOVERNED_ROLE_PATH).toBe('/permission-decay/agents/');
  });

  test('a role outside the path that carries every governance tag keeps its policies and is recorded once as a foreign marker, with an event', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'impostor',
      roleName: 'not-governed',
      path: '/',
      baseline: [{ name: 'base' }],
      grants: [{ name: 'g-old', expiresAt: '2030-01-01T00:00:00Z' }],
      drift: [{ name: 'handmade' }],
    });
    const tagsBefore = await tags(r.roleName);
    const policiesBefore = await inlineNames(r.roleName);
    expect(policiesBefore).toEqual(['base', 'g-old', 'handmade']);

    expect(await sweepAt(NOW)).toEqual(['foreign-marker:']);
    expect(await inlineNames(r.roleName)).toEqual(policiesBefore);
    expect(await tags(r.roleName)).toEqual(tagsBefore);
    expect(await inlineDoc(r.roleName, 'handmade')).toEqual(doc('iam:PassRole'));
    const recs = await records(r.roleName);
    expect(recs.map(x => x.decision)).toEqual(['foreign-marker']);
    expect(recs[0].governanceTags).toMatchObject({ 'governance:managed-by': 'permission-decay', 'governance:agent': 'impostor' });
    expect(recs[0].message).toContain('not under the governed path');
    expect(sentEvents.filter(e => e.roleName === r.roleName).map(e => e.decision)).toEqual(['foreign-marker']);

    // Once per distinct state: a second sweep in a row changes and records nothing...
    sentEvents.length = 0;
    expect(await sweepAt(NOW)).toEqual([]);
    expect(sentEvents).toEqual([]);
    // ...and a changed claim is recorded again.
    await clients.iam.send(new TagRoleCommand({ RoleName: r.roleName, Tags: [{ Key: 'governance:agent', Value: 'support-bot' }] }));
    expect(await sweepAt(NOW)).toEqual(['foreign-marker:']);
    expect((await records(r.roleName)).map(x => x.decision)).toEqual(['foreign-marker', 'foreign-marker']);
    expect(await inlineNames(r.roleName)).toEqual(policiesBefore);
  });

  test('a governed role whose managed-by marker was removed is still swept; the removal is recorded and the tag put back', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'g1',
      baseline: [{ name: 'base' }],
      grants: [{ name: 'g-old', expiresAt: '2030-01-09T00:00:00Z' }],
    });
    await clients.iam.send(new UntagRoleCommand({ RoleName: r.roleName, TagKeys: ['governance:managed-by'] }));
    expect((await tags(r.roleName))['governance:managed-by']).toBeUndefined();

    expect(await sweepAt(NOW)).toEqual(['tampering:', 'revoked:g-old']);
    expect(await inlineNames(r.roleName)).toEqual(['base']);
    expect((await tags(r.roleName))['governance:managed-by']).toBe('permission-decay');
    const tampering = (await records(r.roleName)).find(x => x.decision === 'tampering')!;
    expect(tampering.message).toContain('governance:managed-by was removed');
    expect(tampering.governanceTags?.['governance:managed-by']).toBeUndefined();
    expect(sentEvents.map(e => e.decision)).toContain('tampering');
    expect(await sweepAt(NOW)).toEqual([]);
  });

  test('a governed role stripped of its agent and owner tags gets them back from the spec that names it', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'g2',
      owner: 'team-g2@example.com',
      grants: [{ name: 'g-ok', expiresAt: '2030-01-20T00:00:00Z' }],
    });
    await clients.iam.send(
      new UntagRoleCommand({ RoleName: r.roleName, TagKeys: ['governance:agent', 'governance:owner', 'governance:managed-by'] }),
    );
    expect(await sweepAt(NOW)).toEqual(['tampering:', 'kept:g-ok']);
    expect(await tags(r.roleName)).toMatchObject({
      'governance:agent': 'g2',
      'governance:owner': 'team-g2@example.com',
      'governance:managed-by': 'permission-decay',
    });
    expect((await records(r.roleName)).every(x => x.agentId === 'g2')).toBe(true);
    expect(await sweepAt(NOW)).toEqual([]);
  });
});

describe('every grant and drift ends in IAM at its expiry', () => {
  test('a hand-written grant without a date condition gets one (read back from IAM); its old document is recorded first', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'h1',
      grants: [
        { name: 'g-hand', expiresAt: '2030-01-20T00:00:00Z' },
        { name: 'g-late', expiresAt: '2030-01-20T00:00:00Z' },
      ],
    });
    const plain = doc(['s3:GetObject', 's3:PutObject']);
    await clients.iam.send(new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'g-hand', PolicyDocument: JSON.stringify(plain) }));
    const late = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } },
        },
      ],
    };
    await clients.iam.send(new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'g-late', PolicyDocument: JSON.stringify(late) }));

    expect((await sweepAt(NOW)).sort()).toEqual(['kept:g-hand', 'kept:g-late', 'repaired:g-hand', 'repaired:g-late']);
    expect(bounds(await inlineDoc(r.roleName, 'g-hand'))).toEqual(['2030-01-20T00:00:00Z']);
    expect(bounds(await inlineDoc(r.roleName, 'g-late'))).toEqual(['2030-01-20T00:00:00Z']);
    const repaired = (await records(r.roleName)).filter(x => x.decision === 'repaired');
    expect(JSON.parse(repaired.find(x => x.grant === 'g-hand')!.policy!.document!)).toEqual(plain);
    expect(JSON.parse(repaired.find(x => x.grant === 'g-late')!.policy!.document!)).toEqual(late);
    expect(await sweepAt(NOW)).toEqual([]);
  });

  test('drift gets the date condition of its drift tag', async () => {
    const r = await createGovernedRole(clients, { agentId: 'h2', drift: [{ name: 'handmade' }] });
    expect(await sweepAt(NOW)).toEqual(['drift:handmade']);
    const driftUntil = '2030-01-17T00:00:00Z'; // NOW + the default drift period of 7 days
    expect((await tags(r.roleName))['governance:grant:handmade']).toBe(`expires=${driftUntil} by=permission-decay/drift ticket=none`);
    expect(bounds(await inlineDoc(r.roleName, 'handmade'))).toEqual([driftUntil]);
    const rec = (await records(r.roleName))[0];
    expect(JSON.parse(rec.policy!.document!)).toEqual(doc('iam:PassRole'));
    expect(await sweepAt(NOW)).toEqual([]);
  });

  test.each([
    ['malformed', 'expires=soon by=mallory ticket=none'],
    ['too far (2099)', 'expires=2099-01-01T00:00:00Z by=mallory ticket=T-9'],
  ])('a %s expiry tag ends canonical and bounded: tag and document condition at now + drift period', async (_what, tagValue) => {
    const r = await createGovernedRole(clients, {
      agentId: 'm1',
      grants: [{ name: 'g-bad', expiresAt: '2030-01-20T00:00:00Z', tag: tagValue }],
    });
    // The agent's own document carries no condition at all.
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'g-bad', PolicyDocument: JSON.stringify(doc('s3:*')) }),
    );
    expect(await sweepAt(NOW)).toEqual(['drift:g-bad']);
    const driftUntil = '2030-01-17T00:00:00Z';
    expect((await tags(r.roleName))['governance:grant:g-bad']).toBe(`expires=${driftUntil} by=permission-decay/drift ticket=none`);
    expect(bounds(await inlineDoc(r.roleName, 'g-bad'))).toEqual([driftUntil]);
    expect((await records(r.roleName))[0].message).toContain(tagValue);
    expect(await sweepAt(NOW)).toEqual([]);
    // At the drift expiry it is revoked like any grant.
    expect(await sweepAt('2030-01-17T00:00:01Z')).toEqual(['revoked:g-bad']);
    expect(await inlineNames(r.roleName)).toEqual([]);
  });
});

describe('status reads every grant as the sweep does', () => {
  test('a too-far expiry is malformed in status and drift in the sweep; every row says why', async () => {
    await createGovernedRole(clients, {
      agentId: 's1',
      baseline: [{ name: 'base' }],
      grants: [
        { name: 'g-far', expiresAt: '2030-01-20T00:00:00Z', tag: 'expires=2035-01-01T00:00:00Z by=bob ticket=T-1' },
        { name: 'g-ok', expiresAt: '2030-01-20T00:00:00Z' },
      ],
    });
    await createGovernedRole(clients, { agentId: 'impostor', roleName: 'not-governed', path: '/' });
    const io = memoryIo(moto.endpoint);
    expect(await main(['status', '--json', '--now', NOW], io)).toBe(0);
    const rows = JSON.parse(io.out()).grants as { roleName: string; grant?: string; state: string; reason: string; timeLeft?: string }[];
    const row = (roleName: string, grant?: string) => rows.find(x => x.roleName === roleName && x.grant === grant)!;
    expect(row('agent-s1', 'g-far').state).toBe('malformed');
    expect(row('agent-s1', 'g-far').reason).toContain('more than the maximum grant duration');
    expect(row('agent-s1', 'g-far').timeLeft).toBeUndefined();
    expect(row('agent-s1', 'g-ok')).toMatchObject({ state: 'ok', timeLeft: '10d 0h' });
    expect(row('agent-s1', 'g-ok').reason).toContain('expires at 2030-01-20T00:00:00Z');
    expect(row('not-governed').state).toBe('foreign-marker');
    expect(rows.some(x => x.grant === 'base')).toBe(false);
    for (const x of rows) expect(x.reason.length).toBeGreaterThan(10);
    // The sweep acts on the same reading.
    expect((await sweepAt(NOW)).sort()).toEqual(['drift:g-far', 'foreign-marker:', 'kept:g-ok']);
  });
});

describe('the bundled Lambda cannot be moved by a forged scheduled event', () => {
  const bundle = path.resolve(__dirname, '..', '..', 'dist', 'handlers', 'sweeper', 'index.js');

  /** Runs the bundled handler in its own Node process (no clock harness) with a scheduled event at `time`. */
  function invokeBundle(time: string): { decisions: Record<string, number>; at: string; stderr: string } {
    if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
    const event = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', time, detail: {} };
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(event)})
      .then(s => process.stdout.write('SUMMARY ' + JSON.stringify(s) + '\\n'), e => { console.error(e); process.exit(1); });`,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
          NODE_NO_WARNINGS: '1',
        },
      },
    );
    const line = run.stdout.split('\n').find(l => l.startsWith('SUMMARY '));
    if (run.status !== 0 || !line) throw new Error(`bundled handler failed: ${run.stderr}${run.stdout}`);
    return { ...JSON.parse(line.slice('SUMMARY '.length)), stderr: run.stderr };
  }
  const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

  test('a 2099 event time revokes nothing the real clock keeps', async () => {
    const realNow = Date.now();
    const expiresAt = iso(realNow + 10 * 86400_000);
    const r = await createGovernedRole(clients, { agentId: 'f1', grants: [{ name: 'g-live', expiresAt }] });
    const before = Date.now();
    const summary = invokeBundle('2099-01-01T00:00:00Z');
    expect(summary.decisions).toEqual({ kept: 1 });
    expect(Date.parse(summary.at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(summary.at)).toBeLessThanOrEqual(Date.now());
    expect(summary.stderr).toContain('2099-01-01T00:00:00Z is');
    expect(await inlineNames(r.roleName)).toEqual(['g-live']);
    expect((await tags(r.roleName))['governance:grant:g-live']).toContain(`expires=${expiresAt}`);
    expect((await records(r.roleName)).map(x => [x.decision, x.at < '2099'])).toEqual([['kept', true]]);
  });

  test('a far-past event time keeps nothing the real clock revokes', async () => {
    const expiresAt = iso(Date.now() - 86400_000);
    const r = await createGovernedRole(clients, { agentId: 'f2', grants: [{ name: 'g-ended', expiresAt }] });
    const summary = invokeBundle('2000-01-01T00:00:00Z');
    expect(summary.decisions).toEqual({ revoked: 1 });
    expect(summary.at > expiresAt).toBe(true);
    expect(await inlineNames(r.roleName)).toEqual([]);
    expect((await records(r.roleName)).map(x => x.decision)).toEqual(['revoked']);
  });

  test('an on-time event is honoured (a retry decides as the first attempt did)', async () => {
    const onTime = iso(Date.now() - 60_000);
    const summary = invokeBundle(onTime);
    expect(summary.at).toBe(onTime);
  });
});

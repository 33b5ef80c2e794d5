/**
 * End-to-end: the sweeper's decisions through the CLI (in-process `main`)
 * against moto_server with the real SDK clients.
 */
import {
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { writeFileSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { grantTagKey, LedgerRecord, parseGrantTag } from '../../lib/contract';
import { readLedgerState, readRecords, verifyChain } from '../../lib/sweeper/ledger';
import { isWrite, startFaultProxy } from '../support/fault-proxy';
import { handler } from '../../lib/sweeper/handler';
import {
  createGovernedRole,
  createIdentity,
  Credentials,
  doc,
  runCli,
  TEST_LEDGER_TABLE,
  testClients,
  useEmulatorWithLedger,
} from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const NOW = '2030-01-10T00:00:00Z';

/** The CLI in process as `credentials`; `at` moves its clock (request, renew and restore have no --now). */
const cli = (args: string[], credentials?: Credentials, at?: string) => runCli(moto.endpoint, args, credentials, at);

async function sweepAt(now: string, ...extra: string[]) {
  const r = await cli(['sweep', '--json', '--now', now, ...extra]);
  const parsed = JSON.parse(r.out);
  return {
    ...r,
    result: parsed,
    decisions: (parsed.outcomes ?? []).map((o: { decision: string; grant?: string }) => `${o.decision}:${o.grant ?? ''}`) as string[],
  };
}

async function tags(roleName: string): Promise<Record<string, string>> {
  const t = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [];
  return Object.fromEntries(t.map(x => [x.Key!, x.Value!]));
}
async function inlineNames(roleName: string): Promise<string[]> {
  return (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
}
async function inlineDoc(roleName: string, name: string): Promise<any> {
  return JSON.parse(
    decodeURIComponent((await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))).PolicyDocument!),
  );
}
async function records(roleName: string): Promise<LedgerRecord[]> {
  return readRecords(clients.ddb, TEST_LEDGER_TABLE, roleName);
}

describe('sweep decisions', () => {
  test('first sight records kept once; a second sweep changes nothing', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'a1',
      baseline: [{ name: 'base' }],
      grants: [{ name: 'g-ok', expiresAt: '2030-01-20T00:00:00Z' }],
    });
    const first = await sweepAt(NOW);
    expect(first.code).toBe(0);
    expect(first.decisions).toEqual(['kept:g-ok']);
    const second = await sweepAt(NOW);
    expect(second.code).toBe(0);
    expect(second.decisions).toEqual([]);
    expect((await records(r.roleName)).map(x => x.decision)).toEqual(['kept']);
  });

  test('an expired grant is recorded with its policy, then revoked and untagged', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'a2',
      baseline: [{ name: 'base' }],
      grants: [
        { name: 'g-old', expiresAt: '2030-01-09T00:00:00Z' },
        { name: 'g-mp', kind: 'managed', expiresAt: '2030-01-09T00:00:00Z' },
      ],
    });
    const s = await sweepAt(NOW);
    expect(s.code).toBe(0);
    expect(s.decisions.sort()).toEqual(['revoked:g-mp', 'revoked:g-old']);
    expect(await inlineNames(r.roleName)).toEqual(['base']);
    const attached = (await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.roleName }))).AttachedPolicies ?? [];
    expect(attached).toEqual([]);
    const t = await tags(r.roleName);
    expect(t[grantTagKey('g-old')]).toBeUndefined();
    const recs = await records(r.roleName);
    const rev = recs.find(x => x.grant === 'g-old')!;
    expect(rev.policy).toMatchObject({ kind: 'inline', name: 'g-old' });
    expect(JSON.parse(rev.policy!.document!).Statement[0].Action).toBe('s3:GetObject');
    expect(recs.find(x => x.grant === 'g-mp')!.policy).toMatchObject({ kind: 'managed', arn: r.arns['g-mp'] });
    expect((await sweepAt(NOW)).decisions).toEqual([]);
  });

  test('a valid renewal moves tag and date condition (inline and customer-managed)', async () => {
    // CDK grants (in the approved spec): a renewal needs a requester it can name, and a tag alone names nobody.
    const r = await createGovernedRole(clients, {
      agentId: 'a3',
      grants: [
        { name: 'g1', expiresAt: '2030-01-09T00:00:00Z', requestedBy: 'bob@example.com', inSpec: true },
        { name: 'g2', kind: 'managed', expiresAt: '2030-01-09T00:00:00Z', requestedBy: 'bob', inSpec: true },
      ],
    });
    const alice = await createIdentity(clients.iam, 'alice');
    for (const g of ['g1', 'g2']) {
      const renew = await cli(
        ['renew', '--role', 'a3', '--grant', g, '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9'],
        alice.credentials,
        '2030-01-08T00:00:00Z',
      );
      expect(renew.err).toBe('');
      expect(renew.code).toBe(0);
    }
    const s = await sweepAt(NOW);
    expect(s.decisions.sort()).toEqual(['renewed:g1', 'renewed:g2']);
    expect(parseGrantTag((await tags(r.roleName))[grantTagKey('g1')]).expiresAt).toBe('2030-01-15T00:00:00Z');
    expect((await inlineDoc(r.roleName, 'g1')).Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe('2030-01-15T00:00:00Z');
    const pol = (await clients.iam.send(new GetPolicyCommand({ PolicyArn: r.arns.g2 }))).Policy!;
    const v = await clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: r.arns.g2, VersionId: pol.DefaultVersionId }));
    expect(JSON.parse(decodeURIComponent(v.PolicyVersion!.Document!)).Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe(
      '2030-01-15T00:00:00Z',
    );
    expect((await sweepAt(NOW)).decisions).toEqual([]);
  });

  test('self-approval is refused with exit 2; a renewal past the maximum duration is refused', async () => {
    await createGovernedRole(clients, {
      agentId: 'a4',
      grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z', requestedBy: 'bob@example.com' }],
      maxGrantDurationSeconds: 86400 * 3,
    });
    const bob = await createIdentity(clients.iam, 'bob');
    const self = await cli(
      ['renew', '--role', 'a4', '--grant', 'g1', '--until', '2030-01-11T00:00:00Z', '--ticket', 'T-2'],
      bob.credentials,
      NOW,
    );
    expect(self.code).toBe(2);
    expect(self.err).toMatch(/approved by someone else/);
    const carol = await createIdentity(clients.iam, 'carol');
    const tooLong = await cli(
      ['renew', '--role', 'a4', '--grant', 'g1', '--until', '2030-01-20T00:00:00Z', '--ticket', 'T-2'],
      carol.credentials,
      NOW,
    );
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toMatch(/maximum grant duration/);
  });

  test('an expiry tag moved later without a renewal is tampering; the grant ends at its recorded expiry', async () => {
    const r = await createGovernedRole(clients, { agentId: 'a5', grants: [{ name: 'g1', expiresAt: '2030-01-12T00:00:00Z' }] });
    expect((await sweepAt('2030-01-01T00:00:00Z')).decisions).toEqual(['kept:g1']);
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: r.roleName,
        Tags: [{ Key: grantTagKey('g1'), Value: 'expires=2031-01-01T00:00:00Z by=bob ticket=T-1' }],
      }),
    );
    const s = await sweepAt('2030-01-02T00:00:00Z');
    expect(s.decisions).toEqual(['tampering:g1']);
    expect(parseGrantTag((await tags(r.roleName))[grantTagKey('g1')]).expiresAt).toBe('2030-01-12T00:00:00Z');
    expect((await sweepAt('2030-01-13T00:00:00Z')).decisions).toEqual(['revoked:g1']);
  });

  test('a CDK grant whose tag is later than the approved spec is tampering', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'a5b',
      grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z', inSpec: true }],
    });
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: r.roleName,
        Tags: [{ Key: grantTagKey('g1'), Value: 'expires=2031-01-01T00:00:00Z by=bob ticket=T-1' }],
      }),
    );
    const s = await sweepAt(NOW);
    expect(s.decisions).toEqual(['tampering:g1', 'revoked:g1']);
    expect(await inlineNames(r.roleName)).toEqual([]);
  });

  test('drift decays (tag now + drift period), then is revoked; strict revokes at once', async () => {
    const r = await createGovernedRole(clients, { agentId: 'a6', baseline: [{ name: 'base' }], drift: [{ name: 'handmade' }] });
    const s = await sweepAt(NOW, '--drift-period', '5d');
    expect(s.decisions).toEqual(['drift:handmade']);
    const t = parseGrantTag((await tags(r.roleName))[grantTagKey('handmade')]);
    expect(t).toEqual({ expiresAt: '2030-01-15T00:00:00Z', requestedBy: 'permission-decay/drift', ticket: 'none' });
    expect((await sweepAt(NOW)).decisions).toEqual([]);
    expect((await sweepAt('2030-01-15T00:00:01Z')).decisions).toEqual(['revoked:handmade']);
    expect(await inlineNames(r.roleName)).toEqual(['base']);

    const r2 = await createGovernedRole(clients, { agentId: 'a6s', baseline: [{ name: 'base' }], drift: [{ name: 'handmade2' }] });
    const strict = await sweepAt(NOW, '--strict');
    expect(strict.decisions).toEqual(['drift:handmade2', 'revoked:handmade2']);
    expect(await inlineNames(r2.roleName)).toEqual(['base']);
  });

  test('a malformed expiry tag is drift, re-tagged with now + drift period, recording the malformed value', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'a7',
      grants: [{ name: 'g1', expiresAt: '2030-01-20T00:00:00Z', tag: 'expires=never by=bob ticket=T-1' }],
    });
    const s = await sweepAt(NOW);
    expect(s.decisions).toEqual(['drift:g1']);
    const rec = (await records(r.roleName))[0];
    expect(rec.message).toContain('expires=never');
    expect(parseGrantTag((await tags(r.roleName))[grantTagKey('g1')]).expiresAt).toBe('2030-01-17T00:00:00Z');
  });

  test('a baseline policy that no longer matches the spec is flagged once, not removed', async () => {
    const r = await createGovernedRole(clients, { agentId: 'a8', baseline: [{ name: 'base' }] });
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'base', PolicyDocument: JSON.stringify(doc('*')) }),
    );
    expect((await sweepAt(NOW)).decisions).toEqual(['baseline-mismatch:base']);
    expect((await sweepAt(NOW)).decisions).toEqual([]);
    expect(await inlineNames(r.roleName)).toEqual(['base']);
  });

  test('a grant in the warning window warns once per expiry', async () => {
    await createGovernedRole(clients, { agentId: 'a9', grants: [{ name: 'g1', expiresAt: '2030-01-11T00:00:00Z' }] });
    expect((await sweepAt(NOW)).decisions).toEqual(['warned:g1']);
    expect((await sweepAt('2030-01-10T06:00:00Z')).decisions).toEqual([]);
  });

  test('a grant tag whose policy is gone is cleaned', async () => {
    const r = await createGovernedRole(clients, { agentId: 'a10', grants: [{ name: 'g1', expiresAt: '2030-01-20T00:00:00Z' }] });
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: r.roleName,
        Tags: [{ Key: grantTagKey('ghost'), Value: 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' }],
      }),
    );
    const s = await sweepAt(NOW);
    expect(s.decisions.sort()).toEqual(['cleaned:ghost', 'kept:g1']);
    expect((await tags(r.roleName))[grantTagKey('ghost')]).toBeUndefined();
  });

  test('a missing or malformed spec: error once, expired grants still revoked, no drift or baseline decisions', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'a11',
      spec: 'missing',
      baseline: [{ name: 'base' }],
      grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }],
    });
    const r2 = await createGovernedRole(clients, { agentId: 'a12', spec: 'malformed', drift: [{ name: 'handmade' }] });
    const s = await sweepAt(NOW);
    expect(s.decisions.sort()).toEqual(['error:', 'error:', 'revoked:g1']);
    expect(await inlineNames(r.roleName)).toEqual(['base']);
    expect(await inlineNames(r2.roleName)).toEqual(['handmade']);
    const errs = (await records(r.roleName)).filter(x => x.decision === 'error');
    expect(errs[0].errorCode).toBe('SPEC_MISSING');
    expect((await records(r2.roleName))[0].errorCode).toBe('BAD_SPEC');
    expect((await sweepAt(NOW)).decisions).toEqual([]);
  });

  test('dry run prints the plan and changes nothing', async () => {
    const r = await createGovernedRole(clients, { agentId: 'a13', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
    const d = await cli(['sweep', '--dry-run', '--now', NOW]);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/revoked/);
    expect(await inlineNames(r.roleName)).toEqual(['g1']);
    expect(await records(r.roleName)).toEqual([]);
  });
});

describe('request, status, restore, history', () => {
  test('request puts an inline grant with the date condition and tag; status shows it; restore brings it back after revocation', async () => {
    const r = await createGovernedRole(clients, { agentId: 'b1', baseline: [{ name: 'base' }] });
    const dir = mkdtempSync(path.join(tmpdir(), 'pd-'));
    const file = path.join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(doc(['s3:PutObject'], 'arn:aws:s3:::bucket/*')));
    const bob = await createIdentity(clients.iam, 'bob');
    const req = await cli(
      [
        'request',
        '--role',
        'b1',
        '--grant',
        'upload',
        '--policy-file',
        file,
        '--until',
        '2030-01-12T00:00:00Z',
        '--ticket',
        'T-7',
        '--reason',
        'nightly upload',
      ],
      bob.credentials,
      NOW,
    );
    expect(req.err).toBe('');
    expect(req.code).toBe(0);
    // The requester is the caller as STS names it.
    expect(parseGrantTag((await tags(r.roleName))[grantTagKey('upload')])).toEqual({
      expiresAt: '2030-01-12T00:00:00Z',
      requestedBy: bob.arn,
      ticket: 'T-7',
    });
    expect((await inlineDoc(r.roleName, 'upload')).Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe('2030-01-12T00:00:00Z');

    const st = await cli(['status', '--json', '--now', NOW]);
    expect(JSON.parse(st.out).grants).toEqual([expect.objectContaining({ grant: 'upload', state: 'warning', requestedBy: bob.arn })]);
    const human = await cli(['status', '--role', r.roleName, '--now', NOW]);
    expect(human.out).toMatch(/upload\s+inline\s+2030-01-12T00:00:00Z\s+2d 0h\s+warning/);
    // The sweeper records what people did: first seen inside its warning window.
    expect((await sweepAt(NOW)).decisions).toEqual(['warned:upload']);

    expect((await sweepAt('2030-01-13T00:00:00Z')).decisions).toEqual(['revoked:upload']);
    expect(await inlineNames(r.roleName)).toEqual(['base']);

    const noRenewal = await cli(['restore', '--role', 'b1', '--grant', 'upload'], bob.credentials, '2030-01-13T00:00:00Z');
    expect(noRenewal.code).toBe(2);
    expect(noRenewal.err).toMatch(/needs a valid renewal/);

    const alice = await createIdentity(clients.iam, 'alice');
    expect(
      (
        await cli(
          ['renew', '--role', 'b1', '--grant', 'upload', '--until', '2030-01-16T00:00:00Z', '--ticket', 'T-8'],
          alice.credentials,
          '2030-01-13T00:00:00Z',
        )
      ).code,
    ).toBe(0);
    const restored = await cli(['restore', '--role', 'b1', '--grant', 'upload'], bob.credentials, '2030-01-13T00:00:00Z');
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    const d = await inlineDoc(r.roleName, 'upload');
    expect(d.Statement[0].Action).toEqual(['s3:PutObject']);
    expect(d.Statement[0].Resource).toBe('arn:aws:s3:::bucket/*');
    expect(d.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe('2030-01-16T00:00:00Z');
    expect(parseGrantTag((await tags(r.roleName))[grantTagKey('upload')]).expiresAt).toBe('2030-01-16T00:00:00Z');
    // The sweeper records the restore as the renewal it is; the grant ends inside the warning window: warned once, then quiet.
    expect((await sweepAt('2030-01-13T01:00:00Z')).decisions).toEqual(['renewed:upload', 'warned:upload']);
    expect((await sweepAt('2030-01-13T02:00:00Z')).decisions).toEqual([]);

    const h = await cli(['history', '--role', 'b1', '--json', '--at', '2030-01-12T12:00:00Z', '--verify']);
    expect(h.code).toBe(0);
    const hist = JSON.parse(h.out);
    // The account as it stood at that instant: the revocation and what came after are later records.
    expect(hist.records.map((x: LedgerRecord) => x.decision)).toEqual(['warned']);
    expect(hist.held.map((x: { grant: string }) => x.grant)).toEqual(['upload']);
    expect(hist.verified).toBe(true);
    const later = JSON.parse((await cli(['history', '--role', r.roleName, '--json', '--at', '2030-01-13T01:00:00Z'])).out);
    // Revoked, then brought back: the sweep after the restore recorded it (renewed).
    expect(later.held.map((x: { grant: string }) => x.grant)).toEqual(['upload']);
  });

  test('history --verify reports an altered record', async () => {
    const r = await createGovernedRole(clients, { agentId: 'b2', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
    await sweepAt(NOW);
    const recs = await records(r.roleName);
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...recs[0], message: 'nothing to see' } }));
    const h = await cli(['history', '--role', r.roleName, '--verify']);
    expect(h.code).toBe(1);
    expect(h.out).toMatch(/ALTERED/);
  });

  test('bad usage exits 2 with a message that says what to fix', async () => {
    await createGovernedRole(clients, { agentId: 'b3' });
    expect((await cli(['sweep', '--now', 'yesterday'])).code).toBe(2);
    // The grant name matches the policy, so the refusal is the maximum duration's (30 days), not the name check's.
    const tooLong = await cli(
      [
        'request',
        '--role',
        'b3',
        '--grant',
        'ReadOnlyAccess',
        '--policy-arn',
        'arn:aws:iam::aws:policy/ReadOnlyAccess',
        '--until',
        '2031-01-01T00:00:00Z',
        '--ticket',
        'T',
        '--reason',
        'r',
      ],
      undefined,
      NOW,
    );
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toMatch(/more than the role's maximum grant duration/);
    const noRole = await cli(['status', '--role', 'nope']);
    expect(noRole.code).toBe(2);
    expect(noRole.err).toMatch(/no governed role/);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['ledger', 'init', '--ledger-table', 'wrong-name'])).code).toBe(2);
    expect((await cli(['ledger', 'init', '--ledger-table', 'permission-decay-ledger-two'])).code).toBe(0);
  });
});

describe('concurrency', () => {
  test('four concurrent sweeps record exactly one revocation per revoked grant, and every chain verifies', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'd1',
      grants: [1, 2, 3].map(i => ({ name: `g${i}`, expiresAt: '2030-01-09T00:00:00Z' })),
    });
    const r2 = await createGovernedRole(clients, {
      agentId: 'd2',
      grants: [{ name: 'h1', expiresAt: '2030-01-09T00:00:00Z' }],
      drift: [{ name: 'handmade' }],
    });
    const { runSweep } = await import('../../lib/sweeper/sweep');
    // Writes reach moto one at a time: its failed TransactWriteItems restores a stale copy of the
    // table, erasing concurrent commits (real DynamoDB isolates transactions). The sweeps still race.
    const proxy = await startFaultProxy({ target: moto.endpoint, serialize: isWrite });
    try {
      const results = await Promise.all(
        [0, 1, 2, 3].map(i => runSweep(testClients(proxy.endpoint), { ledgerTable: TEST_LEDGER_TABLE, now: NOW, runId: `c${i}` })),
      );
      expect(results.flatMap(x => x.errors)).toEqual([]);
    } finally {
      await proxy.close();
    }
    for (const [role, grants] of [
      [r.roleName, ['g1', 'g2', 'g3']],
      [r2.roleName, ['h1']],
    ] as const) {
      const recs = await records(role);
      expect([role, verifyChain(recs)]).toEqual([role, []]);
      const revoked = recs.filter(x => x.decision === 'revoked').map(x => x.grant);
      expect([role, revoked.sort()]).toEqual([role, [...grants]]);
    }
    expect((await records(r2.roleName)).filter(x => x.decision === 'drift').map(x => x.grant)).toEqual(['handmade']);
    expect(await inlineNames(r.roleName)).toEqual([]);
    expect(Object.keys(await tags(r.roleName)).filter(k => k.startsWith('governance:grant:'))).toEqual([]);
  });
});

describe('Lambda handler', () => {
  test('runs the same sweep as the CLI, configured from SWEEPER_ENV and AWS_ENDPOINT_URL', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'c1',
      drift: [{ name: 'handmade' }],
      grants: [{ name: 'g1', expiresAt: '2000-01-01T00:00:00Z' }],
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
      PERMISSION_DECAY_STRICT: 'true',
    });
    try {
      const summary = await handler({});
      expect(summary.ok).toBe(true);
      expect(summary.decisions).toEqual({ drift: 1, revoked: 2 });
      expect(await inlineNames(r.roleName)).toEqual([]);
      const state = await readLedgerState(clients.ddb, TEST_LEDGER_TABLE);
      expect(state.get(r.roleName)!.grants.g1.status).toBe('revoked');
      expect((await handler({})).decisions).toEqual({});
    } finally {
      process.env = saved;
    }
  });
});

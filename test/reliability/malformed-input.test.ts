/**
 * Bad input: a corpus of malformed expiry tags, instants, policy documents and
 * renewal records. The pure decision core never throws; a malformed expiry is
 * drift (re-tagged with now + drift period, recorded naming the value); no
 * malformed renewal keeps an expired grant; the CLI refuses bad instants with
 * exit 2 and a message that names the input. A sample runs end to end.
 */
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { grantTagKey, LedgerRoleState, parseGrantTag } from '../../lib/contract';
import { main } from '../../lib/cli/main';
import { readRecords } from '../../lib/sweeper/ledger';
import { renewalKey } from '../../lib/sweeper/renewal';
import { runSweep } from '../../lib/sweeper/sweep';
import { createGovernedRole, createTestLedger, memoryIo, testClients, TEST_LEDGER_TABLE } from '../support/governed-fixtures';
import { farFutureInstants, malformedGrantTags, malformedInstants, invalidRenewals, policyDocuments } from '../support/malformed-corpus';
import { Moto, startMoto } from '../support/moto';
import { applyInMemory, decide1, grantDoc, plainDoc, role, ROLE, spec } from './decide-harness';
import { iamState } from './scenario';

const NOW = '2030-01-10T00:00:00Z';

const DRIFT_UNTIL = '2030-01-17T00:00:00Z';

const tags = malformedGrantTags();
const instants = malformedInstants();
const docs = policyDocuments();
const renewals = invalidRenewals(ROLE, 'g1');
const farFuture = farFutureInstants();

test('the corpus has at least 200 inputs', () => {
  const size = tags.length + instants.length + docs.length + renewals.length + farFuture.length;
  process.stdout.write(
    `[reliability:corpus] tags=${tags.length} instants=${instants.length} documents=${docs.length} renewals=${renewals.length} farFuture=${farFuture.length} total=${size}\n`,
  );
  expect(size).toBeGreaterThanOrEqual(200);
});

describe('decide: a malformed expiry tag is drift, never "no expiry"', () => {
  test.each(tags.map(t => [t.why, t.value]))('%s', (_why, value) => {
    const r = role([{ kind: 'inline', name: 'g1', document: grantDoc('2030-01-20T00:00:00Z') }], { [grantTagKey('g1')]: value });
    const plan = decide1(r, undefined, spec([]), new Map(), NOW);
    const step = plan.steps.find(s => s.record);
    expect(step?.record?.decision).toBe('drift');
    // The record names the input.
    expect(step!.record!.message).toContain(JSON.stringify(value).slice(1, -1).length > 0 ? value.slice(0, 40) : '""');
    const tag = step!.actions.find(a => a.type === 'tag');
    expect(tag).toEqual({ type: 'tag', key: grantTagKey('g1'), value: expect.any(String) });
    expect(parseGrantTag((tag as { value: string }).value).expiresAt).toBe(DRIFT_UNTIL);
    // Nothing removed now; planning again after applying changes nothing.
    expect(plan.steps.flatMap(s => s.actions).some(a => a.type === 'delete-inline' || a.type === 'detach')).toBe(false);
    const applied = applyInMemory(
      r,
      { pk: 'STATE', sk: ROLE, roleName: ROLE, seq: 0, hash: '0'.repeat(64), grants: {}, updatedAt: '' },
      plan,
    );
    expect(decide1(applied.role, applied.state, spec([]), new Map(), NOW).steps).toEqual([]);
  });
});

describe('decide: a well-formed expiry beyond the maximum grant duration, first seen, is drift', () => {
  test.each(farFuture.map(t => [t.why, t.value]))('%s', (_why, value) => {
    const r = role([{ kind: 'inline', name: 'g1', document: grantDoc(value) }], {
      [grantTagKey('g1')]: `expires=${value} by=bob ticket=T-1`,
    });
    const plan = decide1(r, undefined, spec([]), new Map(), NOW);
    const rec = plan.steps.find(s => s.record)!.record!;
    expect(rec.decision).toBe('drift');
    expect(rec.message).toContain(value);
    expect(parseGrantTag((plan.steps.flatMap(s => s.actions).find(a => a.type === 'tag') as { value: string }).value).expiresAt).toBe(
      DRIFT_UNTIL,
    );
  });
});

describe('decide: policy documents in every form', () => {
  test.each(docs.map(d => [d.why, d.value]))('%s: expired grant revoked with the document recorded as it was', (_why, document) => {
    const r = role([{ kind: 'inline', name: 'g1', document }], { [grantTagKey('g1')]: 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1' });
    const plan = decide1(r, undefined, spec([]), new Map(), NOW);
    const revoke = plan.steps.find(s => s.record?.decision === 'revoked')!;
    expect(revoke.record!.policy!.document).toBe(document);
    expect(revoke.actions).toEqual([
      { type: 'delete-inline', policyName: 'g1' },
      { type: 'untag', key: grantTagKey('g1') },
    ]);
  });

  test.each(docs.map(d => [d.why, d.value]))('%s: renewal and drift do not crash', (_why, document) => {
    const renewal = { ...renewals[0].value, until: '2030-01-15T00:00:00Z', sk: '2030-01-09T00:00:00Z#ok', renewalId: 'ok' };
    const r = role(
      [
        { kind: 'inline', name: 'g1', document },
        { kind: 'inline', name: 'hand', document },
      ],
      { [grantTagKey('g1')]: 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1' },
    );
    const plan = decide1(r, undefined, spec([]), new Map([[renewalKey(ROLE, 'g1'), [renewal]]]), NOW);
    const decisions = plan.steps.filter(s => s.record).map(s => `${s.record!.decision}:${s.grant}`);
    expect(decisions).toContain('drift:hand');
    // Renewed (a document with statements gets the new date condition) or, when the document cannot carry one, still renewed by tag.
    expect(decisions).toContain('renewed:g1');
  });
});

describe('decide: invalid renewals never keep an expired grant', () => {
  test.each(renewals.map(r => [r.why, r.value]))('%s', (_why, renewal) => {
    const r = role([{ kind: 'inline', name: 'g1', document: grantDoc('2030-01-09T00:00:00Z') }], {
      [grantTagKey('g1')]: 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1',
    });
    const plan = decide1(r, undefined, spec([]), new Map([[renewalKey(ROLE, 'g1'), [renewal]]]), NOW);
    expect(plan.steps.filter(s => s.record).map(s => s.record!.decision)).toEqual(['revoked']);
  });

  test('a fourth renewal is refused (maxRenewals 3), even when the first three ended', () => {
    const rs = [1, 2, 3, 4].map(i => ({
      ...renewals[0].value,
      sk: `2030-01-0${i}T00:00:00Z#r${i}`,
      renewalId: `r${i}`,
      until: i < 4 ? '2030-01-05T00:00:00Z' : '2030-01-15T00:00:00Z',
    }));
    const r = role([{ kind: 'inline', name: 'g1', document: grantDoc('2030-01-09T00:00:00Z') }], {
      [grantTagKey('g1')]: 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1',
    });
    expect(decide1(r, undefined, spec([]), new Map([[renewalKey(ROLE, 'g1'), rs]]), NOW).steps.map(s => s.record?.decision)).toEqual([
      'revoked',
    ]);
  });
});

describe('decide: duplicate grant tag keys that differ only in case', () => {
  test('a later expiry under a differently-cased key never extends an expired grant', () => {
    for (const order of [0, 1]) {
      const entries: [string, string][] = [
        [grantTagKey('g1'), 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1'],
        ['GOVERNANCE:GRANT:g1', 'expires=2030-02-01T00:00:00Z by=bob ticket=T-1'],
      ];
      if (order) entries.reverse();
      const r = role([{ kind: 'inline', name: 'g1', document: grantDoc('2030-01-09T00:00:00Z') }], Object.fromEntries(entries));
      const plan = decide1(r, undefined, spec([]), new Map(), NOW);
      const decisions = plan.steps.filter(s => s.record).map(s => s.record!.decision);
      // Conservative either way: revoked, or treated as drift (decays) — never kept until February.
      expect(decisions.includes('revoked') || decisions.includes('drift')).toBe(true);
      expect(plan.steps.some(s => s.record?.decision === 'kept' && s.record.expiresAt === '2030-02-01T00:00:00Z')).toBe(false);
    }
  });

  test('baseline is never touched by malformed tags naming it', () => {
    const baseDoc = plainDoc();
    for (const t of tags.slice(0, 40)) {
      const r = role([{ kind: 'inline', name: 'base', document: JSON.stringify(baseDoc) }], { [grantTagKey('base')]: t.value });
      const plan = decide1(r, undefined, spec([{ name: 'base', document: baseDoc }]), new Map(), NOW);
      expect(plan.steps.flatMap(s => s.actions).filter(a => a.type === 'delete-inline' || a.type === 'detach')).toEqual([]);
    }
  });
});

describe('CLI: bad instants are refused with exit 2 and a message naming the input', () => {
  // --now takes the expiry form or any ISO-8601 instant with minutes and an explicit zone (README). The
  // oracle is this hand-kept list of the corpus entries of that form, not the parser under test.
  const ISO_WITH_ZONE = new Set(['no seconds', 'milliseconds', 'offset +00:00', 'offset -05:00', 'offset +14:00']);
  const refused = instants.filter(i => !ISO_WITH_ZONE.has(i.why));
  test('the oracle names only entries of the corpus, and --now accepts each of them', async () => {
    for (const why of ISO_WITH_ZONE) {
      const entry = instants.find(i => i.why === why);
      expect([why, entry !== undefined]).toEqual([why, true]);
      const io = memoryIo('http://127.0.0.1:9', undefined);
      // Accepted: the sweep goes on to the (unreachable) emulator and fails there (exit 1), not on --now (exit 2).
      const code = await main(['sweep', '--dry-run', '--now', entry!.value], io);
      expect([why, code, io.err()]).toEqual([why, 1, expect.not.stringContaining('--now')]);
    }
  });
  test.each(refused.map(i => [i.why, i.value]))('--now %s', async (_why, value) => {
    const io = memoryIo('http://127.0.0.1:9', undefined);
    const code = await main(['sweep', '--now', value], io);
    expect(code).toBe(2);
    // The message names the input (an empty value or one that looks like a flag is named as missing).
    expect(io.err()).toContain(value.trim() === '' || value.startsWith('-') ? '--now' : value);
  });
});

describe('end to end against the emulator: a sample of the corpus', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  test('malformed tags (a sample of 12) are re-tagged and recorded; odd documents are recorded and revoked exactly', async () => {
    const clients = testClients(moto.endpoint);
    await createTestLedger(clients);
    const sample = tags
      .filter((_, i) => i % Math.ceil(tags.length / 12) === 0)
      // IAM itself refuses some values (over 256 characters, characters outside its tag set); moto may accept them.
      .filter(t => t.value.length <= 256);
    const roleOf = (i: number) => `agent-m${i}`;
    for (const [i, t] of sample.entries()) {
      await createGovernedRole(clients, {
        agentId: `m${i}`,
        grants: [{ name: 'g1', expiresAt: '2030-01-20T00:00:00Z', tag: t.value }],
      }).catch(e => {
        throw new Error(`fixture ${t.why}: ${e.message}`);
      });
    }
    // moto insists on Version 2012-10-17; the huge documents exceed IAM's inline size limit.
    const validDocs = docs.filter(d => d.valid && d.value.length < 10000 && d.value.includes('"Version":"2012-10-17"'));
    for (const [i, d] of validDocs.entries()) {
      await createGovernedRole(clients, { agentId: `d${i}`, grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
      await clients.iam.send(new PutRolePolicyCommand({ RoleName: `agent-d${i}`, PolicyName: 'g1', PolicyDocument: d.value }));
    }
    const result = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    expect(result.errors).toEqual([]);
    const state = await iamState(clients);
    for (const [i, t] of sample.entries()) {
      const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, roleOf(i));
      expect([t.why, recs.map(r => r.decision)]).toEqual([t.why, ['drift']]);
      expect(recs[0].message).toContain(t.value.slice(0, 30));
      expect(parseGrantTag(state[roleOf(i)].tags[grantTagKey('g1')]).expiresAt).toBe(DRIFT_UNTIL);
    }
    for (const [i, d] of validDocs.entries()) {
      const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, `agent-d${i}`);
      expect([d.why, recs.map(r => r.decision)]).toEqual([d.why, ['revoked']]);
      expect(JSON.parse(recs[0].policy!.document!)).toEqual(JSON.parse(d.value));
      expect(state[`agent-d${i}`].inline).toEqual({});
    }
    expect((await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW })).plan.roles.flatMap(r => r.steps)).toEqual([]);
  });
});

// Keeps the type import used when the harness changes.
export type _State = LedgerRoleState;

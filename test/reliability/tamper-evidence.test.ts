/**
 * Tamper evidence: `permission-decay history --verify` walks a role's hash
 * chain and exits non-zero naming the role and the sequence number when a
 * record was altered (raw DynamoDB UpdateItem), deleted from the middle, or
 * records were reordered; an intact chain verifies. With the sweeper's signing
 * key, a record rewritten with its hashes recomputed fails its signature, and
 * the role's anchor tag must be there.
 */
import { ListRoleTagsCommand, UntagRoleCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { main } from '../../lib/cli/main';
import { recordSortKey, rolePartition, TAG_LEDGER_HEAD } from '../../lib/contract';
import { hashRecord, readRecords } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { createGovernedRole, createTestLedger, memoryIo, testClients, TEST_LEDGER_TABLE } from '../support/governed-fixtures';
import { Moto, startMoto } from '../support/moto';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const ROLE = 'agent-t1';

/** A role with five records: kept, kept, warned, drift, revoked. */
async function chain() {
  await moto.reset();
  const clients = testClients(moto.endpoint);
  await createTestLedger(clients);
  await createGovernedRole(clients, {
    agentId: 't1',
    drift: [{ name: 'handmade' }],
    grants: [
      { name: 'a', expiresAt: '2030-01-09T00:00:00Z' },
      { name: 'b', expiresAt: '2030-01-11T00:00:00Z' },
      { name: 'c', expiresAt: '2030-02-01T00:00:00Z' },
    ],
  });
  await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-10T00:00:00Z' });
  const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, ROLE);
  expect(recs.length).toBeGreaterThanOrEqual(4);
  return { clients, recs };
}

async function verify(): Promise<{ code: number; out: string; json: { verified: boolean; problems: { seq: number; code: string }[] } }> {
  const io = memoryIo(moto.endpoint);
  const code = await main(['history', '--role', ROLE, '--verify'], io);
  const jsonIo = memoryIo(moto.endpoint);
  await main(['history', '--role', ROLE, '--verify', '--json'], jsonIo);
  return { code, out: io.out() + io.err(), json: JSON.parse(jsonIo.out()) };
}

test('an intact chain verifies (exit 0)', async () => {
  await chain();
  const v = await verify();
  expect(v.code).toBe(0);
  expect(v.json.verified).toBe(true);
});

test('a field altered with a raw UpdateItem: exit 1, naming the role and the record', async () => {
  const { clients, recs } = await chain();
  const target = recs[1];
  await clients.ddb.send(
    new UpdateCommand({
      TableName: TEST_LEDGER_TABLE,
      Key: { pk: target.pk, sk: target.sk },
      UpdateExpression: 'SET #e = :e',
      ExpressionAttributeNames: { '#e': 'expiresAt' },
      ExpressionAttributeValues: { ':e': '2099-01-01T00:00:00Z' },
    }),
  );
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.out).toContain(ROLE);
  expect(v.out).toMatch(new RegExp(`record ${target.seq}\\b.*ALTERED`));
  expect(v.json.problems).toContainEqual(expect.objectContaining({ seq: target.seq, code: 'ALTERED' }));
});

test('an attribute added to a record: exit 1', async () => {
  const { clients, recs } = await chain();
  await clients.ddb.send(
    new UpdateCommand({
      TableName: TEST_LEDGER_TABLE,
      Key: { pk: recs[0].pk, sk: recs[0].sk },
      UpdateExpression: 'SET approvedBy = :a',
      ExpressionAttributeValues: { ':a': 'arn:aws:iam::123456789012:user/mallory' },
    }),
  );
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.json.problems).toContainEqual(expect.objectContaining({ seq: recs[0].seq, code: 'ALTERED' }));
});

test('a record deleted from the middle: exit 1, naming the missing sequence', async () => {
  const { clients, recs } = await chain();
  const gone = recs[2];
  await clients.ddb.send(new DeleteCommand({ TableName: TEST_LEDGER_TABLE, Key: { pk: gone.pk, sk: gone.sk } }));
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.out).toContain(ROLE);
  expect(v.json.problems).toContainEqual(expect.objectContaining({ seq: gone.seq, code: 'GAP' }));
  expect(v.out).toMatch(new RegExp(`record ${gone.seq}\\b`));
});

test('the last record deleted: the STATE head names it (exit 1)', async () => {
  const { clients, recs } = await chain();
  const last = recs[recs.length - 1];
  await clients.ddb.send(new DeleteCommand({ TableName: TEST_LEDGER_TABLE, Key: { pk: last.pk, sk: last.sk } }));
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.json.problems).toContainEqual(expect.objectContaining({ code: 'HEAD_MISMATCH' }));
});

test('two records reordered (contents swapped between sequence numbers): exit 1', async () => {
  const { clients, recs } = await chain();
  const [x, y] = [recs[1], recs[2]];
  await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...y, pk: x.pk, sk: x.sk } }));
  await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...x, pk: y.pk, sk: y.sk } }));
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.out).toContain(ROLE);
  expect(v.json.problems.length).toBeGreaterThan(0);
  expect(v.json.problems.map(p => p.seq)).toEqual(expect.arrayContaining([x.seq]));
});

test('reordered with renumbered seq and re-hashed contents (no key): the link to the previous hash breaks', async () => {
  const { clients, recs } = await chain();
  const [x, y] = [recs[1], recs[2]];
  // Swap including seq fields so each item's seq matches its key; hashes are left as they were.
  await clients.ddb.send(
    new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...y, pk: rolePartition(ROLE), sk: recordSortKey(x.seq), seq: x.seq } }),
  );
  await clients.ddb.send(
    new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...x, pk: rolePartition(ROLE), sk: recordSortKey(y.seq), seq: y.seq } }),
  );
  const v = await verify();
  expect(v.code).toBe(1);
  expect(v.json.problems.map(p => p.code)).toEqual(expect.arrayContaining(['ALTERED']));
});

describe('signed and anchored: what a rewrite with recomputed hashes cannot hide', () => {
  async function signedChain() {
    await moto.reset();
    const clients = testClients(moto.endpoint);
    await createTestLedger(clients);
    const keyId = (await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await createGovernedRole(clients, {
      agentId: 't1',
      drift: [{ name: 'handmade' }],
      grants: [
        { name: 'a', expiresAt: '2030-01-09T00:00:00Z' },
        { name: 'b', expiresAt: '2030-01-11T00:00:00Z' },
        { name: 'c', expiresAt: '2030-02-01T00:00:00Z' },
      ],
    });
    await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-10T00:00:00Z', signingKeyId: keyId });
    return { clients, keyId, recs: await readRecords(clients.ddb, TEST_LEDGER_TABLE, ROLE) };
  }
  async function verifySigned(keyId: string) {
    const io = memoryIo(moto.endpoint);
    const code = await main(['history', '--role', ROLE, '--verify', '--signing-key', keyId, '--json'], io);
    return { code, json: JSON.parse(io.out()) as { verified: boolean; problems: { seq: number; code: string }[] } };
  }

  test('a signed chain verifies with the public key; every record carries a signature and the role its head', async () => {
    const { clients, keyId, recs } = await signedChain();
    expect(recs.every(r => typeof r.signature === 'string' && r.signature.length > 0)).toBe(true);
    const head = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: ROLE }))).Tags!.find(t => t.Key === TAG_LEDGER_HEAD)!.Value;
    expect(head).toBe(`${recs.length}:${recs[recs.length - 1].hash.slice(0, 16)}`);
    expect(await verifySigned(keyId)).toEqual({ code: 0, json: expect.objectContaining({ verified: true, problems: [] }) });
  });

  test('record 2 rewritten, its hash and every later link recomputed: the hash chain holds but the signature does not', async () => {
    const { clients, keyId, recs } = await signedChain();
    let prev = recs[0].hash;
    for (const r of recs.slice(1)) {
      const { hash: _h, ...rest } = r;
      const content = { ...rest, prevHash: prev, ...(r.seq === 2 ? { message: 'nothing happened' } : {}) };
      const hash = hashRecord(content);
      await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...content, hash } }));
      prev = hash;
    }
    const v = await verifySigned(keyId);
    expect(v.code).toBe(1);
    expect(v.json.problems.filter(p => p.code === 'ALTERED' || p.code === 'BROKEN_LINK')).toEqual([]);
    expect(v.json.problems).toContainEqual(expect.objectContaining({ seq: 2, code: 'BAD_SIGNATURE' }));
  });

  test('a record whose signature was stripped: UNSIGNED; the anchor tag removed: NO_ANCHOR', async () => {
    const { clients, keyId, recs } = await signedChain();
    const { signature: _s, ...unsigned } = recs[0];
    await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: unsigned }));
    await clients.iam.send(new UntagRoleCommand({ RoleName: ROLE, TagKeys: [TAG_LEDGER_HEAD] }));
    const v = await verifySigned(keyId);
    expect(v.code).toBe(1);
    expect(v.json.problems).toContainEqual(expect.objectContaining({ seq: 1, code: 'UNSIGNED' }));
    expect(v.json.problems).toContainEqual(expect.objectContaining({ code: 'NO_ANCHOR' }));
  });
});

describe('the CLI sweep signs like the Lambda', () => {
  /** A fresh ledger, a signing key and a role whose grant has expired by the sweeps below. */
  async function keyAndRole() {
    await moto.reset();
    const clients = testClients(moto.endpoint);
    await createTestLedger(clients);
    const keyId = (await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
    await createGovernedRole(clients, { agentId: 't1', grants: [{ name: 'a', expiresAt: '2030-01-09T00:00:00Z' }] });
    return { clients, keyId };
  }

  test('records appended by `permission-decay sweep --signing-key K` carry signatures that verify', async () => {
    const { clients, keyId } = await keyAndRole();
    const sweepIo = memoryIo(moto.endpoint);
    expect(await main(['sweep', '--signing-key', keyId, '--now', '2030-01-10T00:00:00Z'], sweepIo)).toBe(0);
    const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, ROLE);
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.filter(r => typeof r.signature !== 'string' || r.signature.length === 0)).toEqual([]);
    const io = memoryIo(moto.endpoint);
    expect(await main(['history', '--role', ROLE, '--verify', '--signing-key', keyId, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual(expect.objectContaining({ verified: true, problems: [] }));
  });

  test('control: the same sweep without a key appends unsigned records, which --verify with the key names', async () => {
    const { keyId } = await keyAndRole();
    expect(await main(['sweep', '--now', '2030-01-10T00:00:00Z'], memoryIo(moto.endpoint))).toBe(0);
    const io = memoryIo(moto.endpoint);
    expect(await main(['history', '--role', ROLE, '--verify', '--signing-key', keyId, '--json'], io)).toBe(1);
    expect(JSON.parse(io.out()).problems).toContainEqual(expect.objectContaining({ seq: 1, code: 'UNSIGNED' }));
  });
});

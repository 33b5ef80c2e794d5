/**
 * Crashes: the CLI sweep runs in a child process and is SIGKILLed when the
 * proxy sees its Nth write (IAM change, ledger append, event), either before
 * the write is forwarded or after the emulator applied it but before the
 * child hears back. A fresh sweep then ends in exactly the state of an
 * uninterrupted run, every removal had its record first, and every revoked
 * grant's record holds exactly what the role held (so `restore` can put it back).
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { TagRoleCommand } from '@aws-sdk/client-iam';
import { canonicalPolicyJson, grantTagKey, LedgerRecord } from '../../lib/contract';
import { main } from '../../lib/cli/main';
import { runSweep } from '../../lib/sweeper/sweep';
import { createClients } from '../../lib/sweeper/aws-clients';
import { readRecords, stableJson } from '../../lib/sweeper/ledger';
import { policyNameOfArn } from '../../lib/sweeper/snapshot';
import { FaultProxy, FaultRequest, isWrite, startFaultProxy, Fault } from '../support/fault-proxy';
import {
  createGovernedRole,
  createIdentity,
  createTestLedger,
  doc,
  memoryIo,
  testClients,
  TEST_LEDGER_TABLE,
} from '../support/governed-fixtures';
import { atInstant } from '../support/clock';
import { Moto, startMoto } from '../support/moto';
import { EXPIRED, iamState, LATER, NOW, outcome, SOON } from './scenario';

const FULL = process.env.RELIABILITY_FULL === '1';

let moto: Moto;
let cliBundle: string;
beforeAll(async () => {
  moto = await startMoto();
  // The CLI as shipped (bin/permission-decay.ts), bundled once so the child starts fast and never runs a stale dist/.
  const dir = mkdtempSync(path.join(tmpdir(), 'pd-crash-'));
  cliBundle = path.join(dir, 'permission-decay.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('esbuild').buildSync({
    entryPoints: [path.join(__dirname, '../../bin/permission-decay.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: cliBundle,
    logLevel: 'error',
  });
});
afterAll(async () => {
  await moto?.stop();
});

/** An account where one sweep takes every kind of step: revoke (inline, managed), drift, malformed tag, renew (inline, managed), tampering, clean, warn, baseline mismatch. */
async function buildAccount(): Promise<void> {
  const clients = testClients(moto.endpoint);
  await createTestLedger(clients);
  // Tampering needs a recorded expiry: see the grant once, then move its tag.
  await createGovernedRole(clients, { agentId: 'c6', grants: [{ name: 'tamper', expiresAt: '2030-01-20T00:00:00Z' }] });
  await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-01T00:00:00Z', roleNames: ['agent-c6'] });
  await clients.iam.send(
    new TagRoleCommand({
      RoleName: 'agent-c6',
      Tags: [{ Key: grantTagKey('tamper'), Value: 'expires=2031-01-01T00:00:00Z by=bob ticket=T-1' }],
    }),
  );

  // CDK grants (in the approved spec): a renewal needs a requester, and these were requested by deploying them.
  await createGovernedRole(clients, {
    agentId: 'c1',
    baseline: [{ name: 'base' }],
    grants: [
      { name: 'old', expiresAt: EXPIRED, inSpec: true, document: doc(['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::c1/*') },
      { name: 'c1-mp', kind: 'managed', expiresAt: EXPIRED, inSpec: true },
    ],
  });
  await createGovernedRole(clients, { agentId: 'c2', drift: [{ name: 'handmade' }] });
  await createGovernedRole(clients, {
    agentId: 'c3',
    grants: [{ name: 'bad', expiresAt: LATER, tag: 'expires=2030-01-20 by=bob ticket=T-1' }],
  });
  await createGovernedRole(clients, {
    agentId: 'c4',
    grants: [
      { name: 'ren', expiresAt: EXPIRED, inSpec: true },
      { name: 'c4-mp', kind: 'managed', expiresAt: EXPIRED, inSpec: true },
    ],
  });
  await createGovernedRole(clients, { agentId: 'c5', baseline: [{ name: 'base' }], grants: [{ name: 'soon', expiresAt: SOON }] });
  await clients.iam.send(
    new TagRoleCommand({ RoleName: 'agent-c5', Tags: [{ Key: grantTagKey('ghost'), Value: `expires=${LATER} by=bob ticket=T-1` }] }),
  );
  await createGovernedRole(clients, { agentId: 'c7', grants: [{ name: 'strict-old', expiresAt: EXPIRED }], drift: [{ name: 'hand2' }] });
  const alice = await createIdentity(clients.iam, 'alice');
  for (const grant of ['ren', 'c4-mp']) {
    const io = memoryIo(moto.endpoint, alice.credentials);
    const code = await atInstant('2030-01-08T00:00:00Z', () =>
      main(['renew', '--role', 'agent-c4', '--grant', grant, '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9'], io),
    );
    if (code !== 0) throw new Error(`fixture renew failed: ${io.err()}`);
  }
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runCli(endpoint: string, args: string[], onSpawn: (child: ChildProcess) => void = () => undefined): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBundle, ...args], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_MAX_ATTEMPTS: '2',
        PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
        AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', d => {
      stdout += d;
    });
    child.stderr!.on('data', d => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** At every delete/detach the ledger already holds the revocation with what the role held. */
function recordFirst(violations: string[]) {
  const direct = testClients(moto.endpoint);
  return async (req: FaultRequest) => {
    if (req.service !== 'iam' || (req.action !== 'DeleteRolePolicy' && req.action !== 'DetachRolePolicy')) return;
    const roleName = String(req.params.RoleName);
    const grant = req.action === 'DeleteRolePolicy' ? String(req.params.PolicyName) : policyNameOfArn(String(req.params.PolicyArn));
    const recs = await readRecords(direct.ddb, TEST_LEDGER_TABLE, roleName);
    if (!recs.some(r => r.decision === 'revoked' && r.grant === grant && r.policy && (r.policy.document || r.policy.arn))) {
      violations.push(`${req.action} ${roleName}/${grant} with no revoked record first`);
    }
  };
}

const SWEEP_ARGS = ['sweep', '--json', '--now', NOW];

/** Every revoked record holds exactly the policy the role had before the sweep. */
function checkRestorable(before: Awaited<ReturnType<typeof iamState>>, records: Record<string, LedgerRecord[]>): string[] {
  const problems: string[] = [];
  for (const [roleName, recs] of Object.entries(records)) {
    const revoked = recs.filter(r => r.decision === 'revoked');
    for (const r of revoked) {
      const held = before[roleName];
      if (!r.policy) {
        problems.push(`${roleName}/${r.grant}: revoked record has no policy`);
        continue;
      }
      if (r.policy.kind === 'inline') {
        if (!r.policy.document || canonicalPolicyJson(JSON.parse(r.policy.document)) !== held?.inline[r.grant!])
          problems.push(`${roleName}/${r.grant}: recorded document differs from what the role held`);
      } else if (
        !r.policy.arn ||
        r.policy.document === undefined ||
        canonicalPolicyJson(JSON.parse(r.policy.document)) !== held?.managed[r.grant!]
      ) {
        problems.push(`${roleName}/${r.grant}: recorded managed policy differs from what the role held`);
      }
    }
  }
  return problems;
}

/** The uninterrupted run: its write sequence and outcome, made once per file by whichever test needs it first. */
type IamState = Awaited<ReturnType<typeof iamState>>;
let referenceRun:
  | Promise<{
      writes: string[];
      reference: Awaited<ReturnType<typeof outcome>>;
      before: IamState;
      violations: string[];
      restoreCodes: number[];
      after: IamState;
    }>
  | undefined;
function uninterrupted() {
  referenceRun ??= (async () => {
    await moto.reset();
    await buildAccount();
    const direct = testClients(moto.endpoint);
    const before = await iamState(direct);
    const violations: string[] = [];
    const seen: string[] = [];
    const proxy = await startFaultProxy({
      target: moto.endpoint,
      observe: recordFirst(violations),
      decide: req => {
        if (isWrite(req)) seen.push(`${req.service}:${req.action}`);
        return undefined;
      },
    });
    try {
      const run = await runCli(proxy.endpoint, SWEEP_ARGS);
      expect(run.stderr).not.toMatch(/permission-decay:/);
      expect(run.code).toBe(0);
    } finally {
      await proxy.close();
    }
    const reference = await outcome(direct, TEST_LEDGER_TABLE);
    // Restore really works from the records: renew, then restore each revoked grant of agent-c1.
    const alice = await createIdentity(direct.iam, 'alice2');
    const bob = await createIdentity(direct.iam, 'carol');
    const restoreCodes: number[] = [];
    for (const grant of ['old', 'c1-mp']) {
      restoreCodes.push(
        await atInstant(NOW, () =>
          main(
            ['renew', '--role', 'agent-c1', '--grant', grant, '--until', '2030-01-12T00:00:00Z', '--ticket', 'T-3'],
            memoryIo(moto.endpoint, alice.credentials),
          ),
        ),
      );
      restoreCodes.push(
        await atInstant(NOW, () => main(['restore', '--role', 'agent-c1', '--grant', grant], memoryIo(moto.endpoint, bob.credentials))),
      );
    }
    return { writes: seen, reference, before, violations, restoreCodes, after: await iamState(direct) };
  })();
  return referenceRun;
}

describe('SIGKILL while applying a plan', () => {
  test('the uninterrupted run: the reference state, and every revoked grant restores', async () => {
    const { writes, reference, before, violations, restoreCodes, after } = await uninterrupted();
    expect(violations).toEqual([]);
    expect(checkRestorable(before, reference.records)).toEqual([]);
    const decisions = Object.values(reference.decisions).flat();
    for (const d of [
      'revoked:old',
      'revoked:c1-mp',
      'drift:handmade',
      'drift:bad',
      'renewed:ren',
      'renewed:c4-mp',
      'tampering:tamper',
      'cleaned:ghost',
      'warned:soon',
      'revoked:strict-old',
      'drift:hand2',
    ]) {
      expect(decisions).toContain(d);
    }
    // Every kind of write appears.
    for (const w of [
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:UntagRole',
      'iam:TagRole',
      'iam:PutRolePolicy',
      'iam:CreatePolicyVersion',
      'dynamodb:TransactWriteItems',
      'events:PutEvents',
    ]) {
      expect(writes).toContain(w);
    }

    // Restore really works from the records: renew, then restore, each revoked grant of agent-c1 (exit 0 each).
    expect(restoreCodes).toEqual([0, 0, 0, 0]);
    const stripExpiry = (canon: string) => canon.replace(/"Condition":\{"DateLessThan":\{"aws:CurrentTime":"[^"]+"\}\},?/g, '');
    expect(stripExpiry(after['agent-c1'].inline.old)).toEqual(stripExpiry(before['agent-c1'].inline.old));
    expect(Object.keys(after['agent-c1'].managed)).toEqual(['c1-mp']);
  });

  test(
    FULL
      ? 'killed before and after every write: a fresh sweep ends in the reference state'
      : 'killed before every odd-numbered write and before and after the first write of each kind (RELIABILITY_FULL=1: every write): ' +
          'a fresh sweep ends in the reference state',
    async () => {
      const { writes, reference } = await uninterrupted();
      expect(writes.length).toBeGreaterThan(20);
      // Default: before-forward at every odd write and after-landed at the first write of every kind
      // (plus before-forward there too). RELIABILITY_FULL=1: every write in both modes.
      const points: { n: number; mode: 'before' | 'after' }[] = [];
      const firstOfKind = new Set(writes.map(w => writes.indexOf(w) + 1));
      for (let n = 1; n <= writes.length; n++) {
        if (FULL || n % 2 === 1 || firstOfKind.has(n)) points.push({ n, mode: 'before' });
        if (FULL || firstOfKind.has(n)) points.push({ n, mode: 'after' });
      }
      const failures: string[] = [];
      const killedAt: string[] = [];
      const repeatedTampering: string[] = [];
      const t = { build: 0, child: 0, recover: 0, compare: 0 };
      for (const point of points) {
        let t0 = Date.now();
        await moto.reset();
        await buildAccount();
        const direct = testClients(moto.endpoint);
        const before = await iamState(direct);
        t.build += Date.now() - t0;
        t0 = Date.now();
        const violations: string[] = [];
        let count = 0;
        let child: ChildProcess | undefined;
        let killed = false;
        let recovering = false;
        const proxy: FaultProxy = await startFaultProxy({
          target: moto.endpoint,
          observe: recordFirst(violations),
          decide: (req): Fault | undefined => {
            if (recovering) return undefined;
            if (killed) return { kind: 'drop' }; // anything the dying child still sends
            if (!isWrite(req)) return undefined;
            count++;
            if (count !== point.n) return undefined;
            killed = true;
            killedAt.push(`${point.mode}#${point.n}:${req.service}:${req.action}`);
            if (point.mode === 'before') {
              child?.kill('SIGKILL');
              return { kind: 'drop' };
            }
            return { kind: 'drop-after', after: () => child?.kill('SIGKILL') };
          },
        });
        try {
          const run = await runCli(proxy.endpoint, SWEEP_ARGS, c => {
            child = c;
          });
          expect(run.signal).toBe('SIGKILL');
          recovering = true;
          t.child += Date.now() - t0;
          t0 = Date.now();
          // The next scheduled sweep (in-process, same code, through the same record-first check).
          const recovery = await runSweep(
            createClients({
              region: 'us-east-1',
              endpoint: proxy.endpoint,
              credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
              maxAttempts: 2,
            }),
            { ledgerTable: TEST_LEDGER_TABLE, now: NOW },
          );
          expect(recovery.errors).toEqual([]);
          t.recover += Date.now() - t0;
          t0 = Date.now();
        } finally {
          await proxy.close();
        }
        const got = await outcome(direct, TEST_LEDGER_TABLE);
        const label = `${point.mode} write ${point.n} (${writes[point.n - 1]})`;
        if (stableJson(got.iam) !== stableJson(reference.iam)) failures.push(`${label}: IAM state differs: ${stableJson(got.iam)}`);
        const tamperingAgain = Object.values(got.decisions).flat().length - Object.values(collapseTampering(got.decisions)).flat().length;
        if (tamperingAgain) repeatedTampering.push(`${label}: ${tamperingAgain}`);
        if (stableJson(collapseTampering(got.decisions)) !== stableJson(reference.decisions))
          failures.push(`${label}: decisions differ: ${stableJson(got.decisions)}`);
        if (stableJson(got.memory) !== stableJson(reference.memory)) failures.push(`${label}: STATE differs: ${stableJson(got.memory)}`);
        for (const [role, p] of Object.entries(got.chainProblems))
          if (p.length) failures.push(`${label}: chain of ${role}: ${p.join(', ')}`);
        failures.push(...violations.map(v => `${label}: ${v}`));
        failures.push(...checkRestorable(before, got.records).map(v => `${label}: ${v}`));
        t.compare += Date.now() - t0;
      }
      process.stdout.write(
        `[reliability:crash] writes=${writes.length} points=${points.length} tamperingRecordedTwice=${JSON.stringify(repeatedTampering)} ms=${JSON.stringify(t)} ${JSON.stringify(countBy(killedAt.map(k => k.split(':').slice(1).join(':'))))}\n`,
      );
      expect(failures).toEqual([]);
      expect(killedAt).toHaveLength(points.length);
    },
    600_000,
  );
});

/**
 * Known and accepted: a sweep killed between a `tampering` record and its re-tag records the tampering
 * again next time (the tag still shows the tampered value, so the second record is true, only redundant).
 * GrantMemory has no field that says "tampering already recorded for this tag"; see the reliability notes.
 * Revocation records are never repeated (checked without this allowance).
 */
function collapseTampering(decisions: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(decisions).map(([role, ds]) => [role, ds.filter((d, i) => !(d.startsWith('tampering:') && ds[i - 1] === d))]),
  );
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

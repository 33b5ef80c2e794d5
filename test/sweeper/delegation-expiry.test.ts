/**
 * A time-bound delegation (issue 7) is a time-bound grant on the delegating
 * agent's role: an inline policy `delegate-to-<agentId>` allowing
 * sts:AssumeRole/sts:TagSession on the other agent's role, with the expiry tag
 * and the date condition. The sweeper needs nothing special for it: after the
 * expiry it is revoked like any grant, its document recorded so `restore`
 * can bring it back. Against moto, through the CLI in-process.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { delegationGrantName, grantTagKey, parseGrantTag, PolicyDocumentJson } from '../../lib/contract';
import { continueHopConditions, DELEGATION_ACTIONS, startHopConditions } from '../../lib/private/delegation';
import { readRecords } from '../../lib/sweeper/ledger';
import {
  createGovernedRole,
  createIdentity,
  Credentials,
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

/** The CLI in process as `credentials`; `at` moves its clock (request, renew and restore have no --now). */
const cli = (args: string[], credentials?: Credentials, at?: string) => runCli(moto.endpoint, args, credentials, at);
async function sweepAt(now: string): Promise<string[]> {
  const r = await cli(['sweep', '--json', '--now', now]);
  expect(r.err).toBe('');
  return JSON.parse(r.out).outcomes.map((o: { decision: string; grant?: string }) => `${o.decision}:${o.grant ?? ''}`);
}
async function inline(roleName: string): Promise<string[]> {
  return (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
}
async function tags(roleName: string): Promise<Record<string, string>> {
  const t = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [];
  return Object.fromEntries(t.map(x => [x.Key!, x.Value!]));
}

/** The delegating agent's identity statements, as GovernedAgentRole.allowDelegationTo writes them (the grant adds the date condition). */
function delegationDocument(fromAgentId: string, toRoleArn: string): PolicyDocumentJson {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DelegateStart',
        Effect: 'Allow',
        Action: DELEGATION_ACTIONS,
        Resource: toRoleArn,
        Condition: startHopConditions(fromAgentId),
      },
      {
        Sid: 'DelegateContinue',
        Effect: 'Allow',
        Action: DELEGATION_ACTIONS,
        Resource: toRoleArn,
        Condition: continueHopConditions(fromAgentId),
      },
    ],
  };
}

/**
 * The helper and the planner, the planner holding a delegation to the helper until 2030-01-12. A CDK delegation
 * is in the approved spec; one requested at run time goes through `permission-decay request` (bob, on
 * 2030-01-04), which seals the request: a renewal of a grant whose request is bound to nobody is refused.
 */
async function plannerWithDelegation(inSpec: boolean) {
  const helper = await createGovernedRole(clients, { agentId: 'helper', baseline: [{ name: 'base' }] });
  const helperArn = (await clients.iam.send(new GetRoleCommand({ RoleName: helper.roleName }))).Role!.Arn!;
  const grant = delegationGrantName('helper');
  const document = delegationDocument('planner', helperArn);
  const planner = await createGovernedRole(clients, {
    agentId: 'planner',
    baseline: [{ name: 'base' }],
    grants: inSpec ? [{ name: grant, expiresAt: '2030-01-12T00:00:00Z', inSpec, requestedBy: 'bob', document }] : [],
  });
  const bob = await createIdentity(clients.iam, 'bob');
  if (!inSpec) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pd-delegation-')), 'delegation.json');
    writeFileSync(file, JSON.stringify(document));
    const requested = await cli(
      [
        'request',
        '--role',
        'planner',
        '--grant',
        grant,
        '--policy-file',
        file,
        '--until',
        '2030-01-12T00:00:00Z',
        '--ticket',
        'T-1',
        '--reason',
        'planner hands work to helper',
      ],
      bob.credentials,
      '2030-01-04T00:00:00Z',
    );
    expect(requested.err).toBe('');
    expect(requested.code).toBe(0);
  }
  return { helper, helperArn, grant, planner, bob };
}

test.each([
  ['a CDK delegation (in the approved spec)', true],
  ['a delegation requested at run time (through request, tag and seal)', false],
])('%s is revoked after its expiry, recorded with its document, and can be restored', async (_what, inSpec) => {
  const { helper, helperArn, grant, planner, bob } = await plannerWithDelegation(inSpec);
  expect(grant).toBe('delegate-to-helper');

  // Before its expiry the delegation stays.
  expect(await sweepAt('2030-01-05T00:00:00Z')).toEqual([`kept:${grant}`]);
  expect((await inline(planner.roleName)).sort()).toEqual(['base', grant]);

  // After it: revoked (policy and tag removed), the helper's role untouched.
  expect(await sweepAt('2030-01-12T00:00:01Z')).toEqual([`revoked:${grant}`]);
  expect(await inline(planner.roleName)).toEqual(['base']);
  expect((await tags(planner.roleName))[grantTagKey(grant)]).toBeUndefined();
  expect(await inline(helper.roleName)).toEqual(['base']);

  // The record holds the whole document: actions, the helper's ARN, the session-tag conditions and the date condition.
  const revoked = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, planner.roleName)).find(r => r.decision === 'revoked')!;
  expect(revoked).toMatchObject({ grant, expiresAt: '2030-01-12T00:00:00Z', policy: { kind: 'inline', name: grant } });
  const recorded = JSON.parse(revoked.policy!.document!);
  expect(recorded.Statement).toHaveLength(2);
  for (const s of recorded.Statement) {
    expect(s.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(s.Resource).toBe(helperArn);
    expect(s.Condition.DateLessThan['aws:CurrentTime']).toBe('2030-01-12T00:00:00Z');
  }
  const start = recorded.Statement.find((s: { Sid: string }) => s.Sid === 'DelegateStart');
  expect(start.Condition).toEqual({ ...startHopConditions('planner'), DateLessThan: { 'aws:CurrentTime': '2030-01-12T00:00:00Z' } });
  expect(await sweepAt('2030-01-12T00:00:02Z')).toEqual([]);

  // Restore: a renewal approved by someone other than the requester, then restore puts the same statements back with the new date.
  const alice = await createIdentity(clients.iam, 'alice');
  const renewArgs = ['renew', '--role', 'planner', '--grant', grant, '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9'];
  const renew = await cli(renewArgs, alice.credentials, '2030-01-13T00:00:00Z');
  expect(renew.err).toBe('');
  const restored = await cli(['restore', '--role', 'planner', '--grant', grant], bob.credentials, '2030-01-13T00:00:00Z');
  expect(restored.err).toBe('');
  expect(restored.code).toBe(0);
  const back = JSON.parse(
    decodeURIComponent(
      (await clients.iam.send(new GetRolePolicyCommand({ RoleName: planner.roleName, PolicyName: grant }))).PolicyDocument!,
    ),
  );
  expect(back.Statement.map((s: { Resource: string }) => s.Resource)).toEqual([helperArn, helperArn]);
  expect(
    back.Statement.map((s: { Condition: { DateLessThan: Record<string, string> } }) => s.Condition.DateLessThan['aws:CurrentTime']),
  ).toEqual(['2030-01-15T00:00:00Z', '2030-01-15T00:00:00Z']);
  expect(back.Statement[0].Condition.StringEquals).toEqual(recorded.Statement[0].Condition.StringEquals);
  expect(parseGrantTag((await tags(planner.roleName))[grantTagKey(grant)]).expiresAt).toBe('2030-01-15T00:00:00Z');
  // The CLI writes no ledger record: the next sweep records the restore as the renewal it is (inside the warning window, warned).
  expect(await sweepAt('2030-01-13T01:00:00Z')).toEqual([`renewed:${grant}`, `warned:${grant}`]);
  // ...and it decays again at its new expiry.
  expect(await sweepAt('2030-01-15T00:00:01Z')).toEqual([`revoked:${grant}`]);
  const again = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, planner.roleName)).filter(r => r.decision === 'revoked');
  expect(again.map(r => r.expiresAt)).toEqual(['2030-01-12T00:00:00Z', '2030-01-15T00:00:00Z']);
});

// A restore is recorded only by the next sweep. When none runs between the restore and the renewal's end, no
// `renewed` record is written (the README's rule accepts only a renewal that ends in the future), but the moved tag
// is no tampering and the revocation names the renewed expiry the grant ran until.
test('a restore first seen after its renewal ended is not tampering; the revocation names the renewed expiry', async () => {
  const { grant, planner, bob } = await plannerWithDelegation(true);
  expect(await sweepAt('2030-01-05T00:00:00Z')).toEqual([`kept:${grant}`]);
  expect(await sweepAt('2030-01-12T00:00:01Z')).toEqual([`revoked:${grant}`]);
  const alice = await createIdentity(clients.iam, 'alice');
  const renewArgs = ['renew', '--role', 'planner', '--grant', grant, '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9'];
  const renew = await cli(renewArgs, alice.credentials, '2030-01-13T00:00:00Z');
  expect(renew.code).toBe(0);
  expect((await cli(['restore', '--role', 'planner', '--grant', grant], bob.credentials, '2030-01-13T00:00:00Z')).code).toBe(0);
  // No sweep until after the renewed expiry (a sweeper that was down for two days).
  const decisions = await sweepAt('2030-01-15T00:00:01Z');
  expect(decisions).not.toContain(`tampering:${grant}`);
  expect(decisions[decisions.length - 1]).toBe(`revoked:${grant}`);
  const revoked = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, planner.roleName)).filter(r => r.decision === 'revoked');
  expect(revoked.map(r => r.expiresAt)).toEqual(['2030-01-12T00:00:00Z', '2030-01-15T00:00:00Z']);
});

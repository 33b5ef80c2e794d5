/**
 * history: the ledger's account of a role, what it held at an instant, and
 * `--verify`: the hash chain, the sweeper's signatures (with the ledger key's
 * public key), each role's anchor tag and its STATE item replayed from the
 * records. Without --role, --verify checks every governed role, including
 * those that have an approved spec but no chain.
 */
import { KeyObject } from 'crypto';
import { LedgerRecord, LedgerRoleState, TAG_LEDGER_HEAD } from '../contract';
import { emptyState, readLedgerState, readRecords, readRoleState, verifyChain } from '../sweeper/ledger';
import { ledgerPublicKey, verifyEvidence } from '../sweeper/ledger-evidence';
import { GovernedRole, readRole, readSnapshot } from '../sweeper/snapshot';
import { readSpecs } from '../sweeper/specs';
import { UsageError } from './args';
import { CommandContext } from './context';
import { renderTable } from './render';
import { pointInTime, PointInTime } from './sweep-commands';

/** One problem --verify found, naming the role and the record. */
export interface VerifyProblem {
  readonly roleName: string;
  readonly seq: number;
  readonly code: string;
  readonly message: string;
}

/** Everything --verify checks for one role. */
function verifyRole(
  role: GovernedRole | undefined,
  roleName: string,
  records: readonly LedgerRecord[],
  state: LedgerRoleState | undefined,
  publicKey: KeyObject | undefined,
  hasSpec: boolean,
): VerifyProblem[] {
  const chain = verifyChain(records, state && state.seq > 0 ? state : undefined);
  const evidence = verifyEvidence({ roleName, records, state, publicKey, anchor: role?.tags[TAG_LEDGER_HEAD], hasSpec });
  return [...chain, ...evidence].map(p => ({ roleName, seq: p.seq, code: p.code, message: p.message }));
}

export async function history(ctx: CommandContext): Promise<number> {
  const table = ctx.ledgerTable();
  const verify = ctx.flags.bool('verify');
  const keyId = verify ? ctx.signingKeyId() : undefined;
  const publicKey = keyId ? await ledgerPublicKey(ctx.clients, keyId) : undefined;
  if (ctx.flags.opt('role') === undefined) {
    if (!verify) throw new UsageError('history needs --role <role name or agent id> (or --verify alone, to check every governed role)');
    return verifyAll(ctx, table, publicKey);
  }
  const roleName = await ctx.role();
  const [records, state, role] = await Promise.all([
    readRecords(ctx.clients.ddb, table, roleName),
    readRoleState(ctx.clients.ddb, table, roleName),
    readRole(ctx.clients.iam, roleName),
  ]);
  const atFlag = ctx.flags.opt('at') !== undefined ? ctx.instant('at', 'instant') : undefined;
  const point = atFlag ? pointInTime(records, atFlag) : undefined;
  // With --at, the account stops at that instant: records made after it are not part of what held then.
  const shown = atFlag ? records.filter(r => Date.parse(r.at) <= Date.parse(atFlag)) : records;
  const held = point?.held;
  const hasSpec = verify && role?.agentId ? (await readSpecs(ctx.clients.ssm)).get(role.agentId)?.spec !== undefined : false;
  const problems = verify ? verifyRole(role, roleName, records, state, publicKey, hasSpec) : undefined;
  if (ctx.json) {
    ctx.outJson({
      roleName,
      records: shown,
      ...(point
        ? { at: atFlag, held: point.held, ...(point.checkpoint ? { checkpoint: point.checkpoint, baseline: point.baseline } : {}) }
        : {}),
      ...(problems ? { verified: problems.length === 0, signaturesChecked: publicKey !== undefined, problems } : {}),
    });
  } else {
    ctx.out(
      shown.length
        ? renderTable(
            ['SEQ', 'AT', 'DECISION', 'GRANT', 'EXPIRES', 'ACTOR', 'MESSAGE'],
            shown.map(r => [r.seq, r.at, r.decision, r.grant, r.expiresAt, r.actor, r.message]),
          )
        : `No records for ${roleName}${atFlag ? ` at or before ${atFlag}` : ''}.`,
    );
    if (point && held) {
      const from = point.checkpoint
        ? `from checkpoint #${point.checkpoint.seq} at ${point.checkpoint.at} (${point.checkpoint.flagged} flagged) ` +
          'and the records after it'
        : 'from the decision records (no checkpoint at or before it)';
      ctx.out(
        `\nAt ${atFlag}, ${roleName} held (${from}):\n` +
          (held.length
            ? renderTable(
                ['GRANT', 'KIND', 'EXPIRES', 'SINCE', 'SOURCE', 'FLAGS'],
                held.map(h => [h.grant, h.policy?.kind, h.expiresAt, h.since, h.source, h.flags?.join(',')]),
              )
            : 'no grants\n') +
          (point.checkpoint ? `Baseline at the checkpoint: ${baselineText(point.baseline)}\n` : ''),
      );
    }
    if (problems) ctx.out(verdict(problems, `${records.length} records of ${roleName}`, publicKey !== undefined));
  }
  return problems && problems.length > 0 ? 1 : 0;
}

function baselineText(baseline: PointInTime['baseline']): string {
  return baseline.map(b => b.name + (b.flags ? ` (${b.flags.join(',')})` : '')).join(', ') || 'none';
}

function verdict(problems: readonly VerifyProblem[], what: string, signed: boolean): string {
  if (problems.length) {
    return '\nChain verification FAILED:\n' + problems.map(p => `  ${p.roleName} record ${p.seq}: ${p.code}: ${p.message}`).join('\n');
  }
  const signatures = signed ? ', every signature holds, anchors match' : ' (signatures not checked: give --signing-key)';
  return `\nChain verified: ${what}, no gaps, no alterations${signatures}.`;
}

/** --verify over every governed role (the snapshot) and every role the ledger's STATE names. */
async function verifyAll(ctx: CommandContext, table: string, publicKey: KeyObject | undefined): Promise<number> {
  const [snapshot, states, specs] = await Promise.all([
    readSnapshot(ctx.clients.iam),
    readLedgerState(ctx.clients.ddb, table),
    readSpecs(ctx.clients.ssm),
  ]);
  const roles = new Map(snapshot.roles.map(r => [r.roleName, r]));
  const names = [...new Set([...roles.keys(), ...states.keys()])].sort();
  const problems: VerifyProblem[] = [];
  let count = 0;
  for (const name of names) {
    const role = roles.get(name);
    const records = await readRecords(ctx.clients.ddb, table, name);
    count += records.length;
    const hasSpec = role?.agentId ? specs.get(role.agentId)?.spec !== undefined : false;
    problems.push(...verifyRole(role, name, records, states.get(name) ?? emptyState(name), publicKey, hasSpec));
  }
  if (ctx.json) ctx.outJson({ roles: names, verified: problems.length === 0, signaturesChecked: publicKey !== undefined, problems });
  else ctx.out(verdict(problems, `${names.length} roles, ${count} records`, publicKey !== undefined));
  return problems.length > 0 ? 1 : 0;
}

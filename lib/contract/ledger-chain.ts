/**
 * The ledger's hash chain, pure: the canonical JSON that is hashed, a record's
 * hash, the empty head of a role's chain, and the walk that verifies a chain.
 * The DynamoDB reads and writes live in lib/sweeper/ledger.ts.
 */
import { createHash } from 'crypto';
import { GENESIS_HASH, LedgerRecord, STATE_PARTITION } from './ledger-schema';
import { LedgerRoleState } from './state';

/** JSON with object keys sorted at every level: the canonical form that is hashed. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** hash = sha256(canonical record content without `hash` and `signature`, then prevHash). */
export function hashRecord(record: Omit<LedgerRecord, 'hash'>): string {
  const { hash: _ignored, signature: _signature, ...content } = record as LedgerRecord;
  return sha256(stableJson(content) + record.prevHash);
}

/** The STATE of a role the ledger has no record of: seq 0, genesis hash, no grants. */
export function emptyState(roleName: string): LedgerRoleState {
  return { pk: STATE_PARTITION, sk: roleName, roleName, seq: 0, hash: GENESIS_HASH, grants: {}, updatedAt: '' };
}

/** A problem found walking a role's chain. */
export interface ChainProblem {
  readonly seq: number;
  readonly code: 'GAP' | 'ALTERED' | 'BROKEN_LINK' | 'HEAD_MISMATCH';
  readonly message: string;
}

/** Walks the hash chain: every seq present in order, every hash right, every link to the previous hash. Pure. */
export function verifyChain(records: readonly LedgerRecord[], state?: LedgerRoleState): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const r of records) {
    if (r.seq !== expectedSeq) {
      problems.push({ seq: expectedSeq, code: 'GAP', message: `record ${expectedSeq} is missing (next present: ${r.seq})` });
    }
    if (r.prevHash !== prev) {
      problems.push({ seq: r.seq, code: 'BROKEN_LINK', message: `record ${r.seq} does not link to the hash of the record before it` });
    }
    const { hash, ...rest } = r;
    if (hashRecord(rest) !== hash) {
      problems.push({
        seq: r.seq,
        code: 'ALTERED',
        message: `record ${r.seq} was altered after it was written (hash does not match its content)`,
      });
    }
    prev = r.hash;
    expectedSeq = r.seq + 1;
  }
  if (state && state.seq > 0 && (state.seq !== expectedSeq - 1 || state.hash !== prev)) {
    problems.push({
      seq: state.seq,
      code: 'HEAD_MISMATCH',
      message: `the STATE head names record ${state.seq} but the chain ends at ${expectedSeq - 1}`,
    });
  }
  return problems;
}

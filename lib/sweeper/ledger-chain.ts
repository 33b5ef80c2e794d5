/**
 * The ledger's pure part: the canonical JSON that is hashed, sha256, a record's
 * chain hash and an empty STATE item. No AWS SDK, so the decision core and the
 * checkpoint builder can hash without loading the DynamoDB module.
 */
import { createHash } from 'crypto';
import { GENESIS_HASH, LedgerRecord, LedgerRoleState, STATE_PARTITION } from '../private/contract';

/** JSON with object keys sorted at every level: the canonical form that is hashed. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object).sort()
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

export function emptyState(roleName: string): LedgerRoleState {
  return { pk: STATE_PARTITION, sk: roleName, roleName, seq: 0, hash: GENESIS_HASH, grants: {}, updatedAt: '' };
}


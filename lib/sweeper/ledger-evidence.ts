/**
 * Evidence that the ledger was not rewritten: every record the sweeper appends
 * is signed with a KMS asymmetric key only the sweeper's role may use for Sign,
 * and each role's chain head is anchored in a role tag (TAG_LEDGER_HEAD) only
 * the sweeper may write. Verification needs the public key and the tags, not
 * trust in the table: a rewritten record (even with every later hash
 * recomputed) fails its signature, and a truncated or deleted chain falls
 * short of its anchor.
 */
import { TagRoleCommand } from '@aws-sdk/client-iam';
import { GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { createPublicKey, KeyObject, verify } from 'crypto';
import {
  GrantMemory,
  LEDGER_HEAD_HASH_CHARS,
  LEDGER_SIGNING_ALGORITHM,
  LedgerRecord,
  LedgerRoleState,
  ledgerSigningMessage,
  TAG_LEDGER_HEAD,
} from '../contract';
import { AwsClients } from './aws-clients';
import { LedgerSealer } from './ledger';

/** The sweeper's sealer: KMS Sign with the ledger key, then the head tag on the governed role. */
export function kmsSealer(clients: AwsClients, keyId: string): LedgerSealer {
  return {
    async sign(message) {
      const r = await clients.kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: Buffer.from(message, 'utf8'),
          MessageType: 'RAW',
          SigningAlgorithm: LEDGER_SIGNING_ALGORITHM,
        }),
      );
      if (!r.Signature) throw new Error(`KMS Sign with ${keyId} returned no signature`);
      return Buffer.from(r.Signature).toString('base64');
    },
    async anchor(roleName, seq, hash) {
      const tag = { Key: TAG_LEDGER_HEAD, Value: formatLedgerHead(seq, hash) };
      await clients.iam.send(new TagRoleCommand({ RoleName: roleName, Tags: [tag] }));
    },
  };
}

export function formatLedgerHead(seq: number, hash: string): string {
  return `${seq}:${hash.slice(0, LEDGER_HEAD_HASH_CHARS)}`;
}

/** The anchor tag's value, or why it does not parse. */
export function parseLedgerHead(value: string): { seq: number; hashPrefix: string } | string {
  const m = /^(\d{1,12}):([0-9a-f]{16})$/.exec(value);
  if (!m) return `${TAG_LEDGER_HEAD} "${value}" is not <seq>:<16 hex>`;
  return { seq: Number(m[1]), hashPrefix: m[2] };
}

/** The public key of the ledger key (DER SPKI from KMS GetPublicKey). */
export async function ledgerPublicKey(clients: AwsClients, keyId: string): Promise<KeyObject> {
  const r = await clients.kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!r.PublicKey) throw new Error(`KMS GetPublicKey for ${keyId} returned no key`);
  return createPublicKey({ key: Buffer.from(r.PublicKey), format: 'der', type: 'spki' });
}

/** True when `signature` is the ledger key's signature of the record. Pure. */
export function signatureHolds(record: LedgerRecord, publicKey: KeyObject): boolean {
  if (!record.signature) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(ledgerSigningMessage(record.roleName, record.seq, record.hash), 'utf8'),
      publicKey,
      Buffer.from(record.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** A problem the evidence check finds, beside the hash chain's own. */
export interface EvidenceProblem {
  readonly seq: number;
  readonly code:
    'UNSIGNED' | 'BAD_SIGNATURE' | 'TRUNCATED' | 'ANCHOR_MISMATCH' | 'NO_ANCHOR' | 'BAD_ANCHOR' | 'NO_CHAIN' | 'STATE_MISMATCH';
  readonly message: string;
}

export interface EvidenceInput {
  readonly roleName: string;
  /** The role's records in chain order. */
  readonly records: readonly LedgerRecord[];
  readonly state?: LedgerRoleState;
  /** The ledger key's public key; absent: signatures are not checked. */
  readonly publicKey?: KeyObject;
  /** The role's TAG_LEDGER_HEAD value; absent: the role carries none. */
  readonly anchor?: string;
  /** True when the role has an approved spec (a governed agent the sweeper should have seen). */
  readonly hasSpec: boolean;
}

/**
 * Checks signatures, the anchor and the STATE item against the records. Pure.
 * With a key, every record must carry a valid signature; the anchor must name
 * a record that exists with that hash (a chain that ends before it was
 * truncated); a role with a spec and an anchor or STATE but no records lost
 * its chain; STATE's grants must be what the records say.
 */
export function verifyEvidence(input: EvidenceInput): EvidenceProblem[] {
  const problems: EvidenceProblem[] = [];
  const { records, roleName } = input;
  if (input.publicKey) {
    for (const r of records) {
      if (!r.signature) problems.push({ seq: r.seq, code: 'UNSIGNED', message: `record ${r.seq} carries no signature of the ledger key` });
      else if (!signatureHolds(r, input.publicKey)) {
        const message = `record ${r.seq}'s signature does not hold: it was rewritten after the sweeper signed it`;
        problems.push({ seq: r.seq, code: 'BAD_SIGNATURE', message });
      }
    }
  }
  const last = records.length ? records[records.length - 1].seq : 0;
  if (input.anchor !== undefined) {
    const head = parseLedgerHead(input.anchor);
    if (typeof head === 'string') {
      problems.push({ seq: last, code: 'BAD_ANCHOR', message: head });
    } else if (head.seq > last) {
      const message = `the role's anchor names record ${head.seq} but the chain ends at ${last}: records were deleted`;
      problems.push({ seq: head.seq, code: 'TRUNCATED', message });
    } else {
      const at = records.find(r => r.seq === head.seq);
      if (!at || !at.hash.startsWith(head.hashPrefix)) {
        const message = `record ${head.seq} is not the one the role's anchor names (hash ${head.hashPrefix}…): the chain was rewritten`;
        problems.push({ seq: head.seq, code: 'ANCHOR_MISMATCH', message });
      }
    }
  } else if (input.publicKey && records.some(r => r.actor === 'sweeper')) {
    const message = `the role carries no ${TAG_LEDGER_HEAD} tag although the sweeper wrote its chain: the tag was removed`;
    problems.push({ seq: last, code: 'NO_ANCHOR', message });
  }
  if (input.state && input.state.seq === 0 && records.length > 0) {
    // verifyChain checks a STATE that names a record; one set back to none (or deleted) names nothing.
    const message = `STATE names no record (seq 0, or the item is gone) but the chain ends at ${last}`;
    problems.push({ seq: 0, code: 'STATE_MISMATCH', message });
  }
  if (records.length === 0 && input.hasSpec) {
    const stateSays = input.state && input.state.seq > 0 ? ` (its STATE names record ${input.state.seq})` : '';
    problems.push({ seq: 0, code: 'NO_CHAIN', message: `role ${roleName} has an approved spec but no ledger records${stateSays}` });
  }
  if (input.state && records.length > 0) {
    for (const p of replayProblems(records, input.state)) problems.push(p);
  }
  return problems;
}

const STATUS_OF: { readonly [decision: string]: GrantMemory['status'] | undefined } = {
  revoked: 'revoked',
  cleaned: 'cleaned',
  kept: 'active',
  warned: 'active',
  renewed: 'active',
  drift: 'active',
  tampering: 'active',
  requested: 'active',
  restored: 'active',
};

/** STATE's per-grant status and expiry, replayed from the records: a grant STATE remembers differently was edited in the table. */
function replayProblems(records: readonly LedgerRecord[], state: LedgerRoleState): EvidenceProblem[] {
  const replayed = new Map<string, { status: GrantMemory['status']; expiresAt?: string; seq: number }>();
  for (const r of records) {
    if (!r.grant) continue;
    const status = STATUS_OF[r.decision];
    if (!status) continue;
    const prev = replayed.get(r.grant);
    // A removal keeps the expiry the grant had; every other decision says the expiry in force.
    const ended = r.decision === 'revoked' || r.decision === 'cleaned';
    const expiresAt = ended ? (prev?.expiresAt ?? r.expiresAt) : (r.expiresAt ?? prev?.expiresAt);
    replayed.set(r.grant, { status, expiresAt, seq: r.seq });
  }
  const problems: EvidenceProblem[] = [];
  for (const [grant, mem] of Object.entries(state.grants ?? {})) {
    const r = replayed.get(grant);
    if (!r) {
      problems.push({ seq: state.seq, code: 'STATE_MISMATCH', message: `STATE remembers grant ${grant} that no record mentions` });
    } else if (r.status !== mem.status || (r.status === 'active' && r.expiresAt !== undefined && r.expiresAt !== mem.expiresAt)) {
      problems.push({
        seq: r.seq,
        code: 'STATE_MISMATCH',
        message: `STATE says grant ${grant} is ${mem.status} until ${mem.expiresAt}; record ${r.seq} says ${r.status} until ${r.expiresAt}`,
      });
    }
  }
  return problems;
}

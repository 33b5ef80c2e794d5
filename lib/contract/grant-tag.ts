/** A grant's expiry tag value: `expires=<instant> by=<requester> ticket=<ticket>`, formatted and parsed strictly. */
import { ContractError } from './errors';
import { parseExpiry } from './expiry';
import { GRANT_FIELD_CHARS, IAM_LIMITS } from './tags';

/** What a grant's expiry tag says. */
export interface GrantTag {
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
}

/** Requester recorded on grants that the sweeper found by hand-added (drift). */
export const DRIFT_REQUESTER = 'permission-decay/drift';
/** Ticket recorded on drift grants. */
export const DRIFT_TICKET = 'none';

const GRANT_TAG_FIELDS = ['expires', 'by', 'ticket'] as const;

/** Formats a grant tag value: `expires=<instant> by=<requester> ticket=<ticket>`. Throws on bad fields. */
export function formatGrantTag(tag: GrantTag): string {
  parseExpiry(tag.expiresAt, 'grant expiry');
  for (const [field, value] of [
    ['requester', tag.requestedBy],
    ['ticket', tag.ticket],
  ] as const) {
    if (!GRANT_FIELD_CHARS.test(value)) {
      throw new ContractError(
        'BAD_TAG_FIELD',
        `${field} "${value}" is empty or has characters a grant tag cannot hold (allowed: letters, digits and _ . : / = + - @, no spaces)`,
      );
    }
  }
  const value = `expires=${tag.expiresAt} by=${tag.requestedBy} ticket=${tag.ticket}`;
  if (value.length > IAM_LIMITS.tagValueMaxLength) {
    throw new ContractError(
      'TAG_TOO_LONG',
      `grant tag value is ${value.length} characters; IAM allows ${IAM_LIMITS.tagValueMaxLength}: shorten the requester or ticket`,
    );
  }
  return value;
}

/**
 * Parses a grant tag value strictly: exactly the fields expires, by and ticket,
 * each once, in any order, separated by single spaces. Anything else throws a
 * ContractError; callers treat such a grant as drift, never as "no expiry".
 */
export function parseGrantTag(value: string): GrantTag {
  if (value.length > IAM_LIMITS.tagValueMaxLength) {
    throw new ContractError('BAD_GRANT_TAG', `grant tag value is longer than ${IAM_LIMITS.tagValueMaxLength} characters`);
  }
  const fields = new Map<string, string>();
  for (const part of value.split(' ')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": "${part}" is not a field=value pair`);
    const key = part.slice(0, eq);
    const fieldValue = part.slice(eq + 1);
    if (!(GRANT_TAG_FIELDS as readonly string[]).includes(key)) {
      throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": unknown field "${key}" (expected expires, by, ticket)`);
    }
    if (fields.has(key)) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": field "${key}" appears twice`);
    if (!GRANT_FIELD_CHARS.test(fieldValue)) {
      throw new ContractError(
        'BAD_GRANT_TAG',
        `grant tag "${value}": field "${key}" is empty or has characters outside _ . : / = + - @ letters and digits`,
      );
    }
    fields.set(key, fieldValue);
  }
  for (const key of GRANT_TAG_FIELDS) {
    if (!fields.has(key)) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": field "${key}" is missing`);
  }
  const expiresAt = fields.get('expires')!;
  parseExpiry(expiresAt, `grant tag "${value}": expires`);
  return { expiresAt, requestedBy: fields.get('by')!, ticket: fields.get('ticket')! };
}

/**
 * Synth-time rules for grants and tags. Pure: each returns the problems it
 * finds as messages that end with the fix; the construct names the agent.
 */
import {
  BASELINE_POLICY_NAME,
  ContractError,
  formatExpiry,
  formatGrantTag,
  GRANT_NAME_CHARS,
  GRANT_NAME_MAX_LENGTH,
  IAM_LIMITS,
  parseExpiry,
  TAG_CHARS,
} from '../contract';

/** What a person asks for when requesting a time-bound grant. */
export interface GrantRequest {
  readonly name: string;
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
  readonly reason: string;
}

/** Problems with a grant name (it becomes an inline policy name and part of a tag key). */
export function grantNameProblems(name: string): string[] {
  if (!name) return ['the grant name is empty: give the grant a name'];
  const problems: string[] = [];
  if (name.length > GRANT_NAME_MAX_LENGTH) {
    problems.push(`the grant name is ${name.length} characters; at most ${GRANT_NAME_MAX_LENGTH} fit in a tag key: shorten it`);
  }
  if (!GRANT_NAME_CHARS.test(name)) {
    problems.push('the grant name has characters a tag key or policy name cannot hold: use only letters, digits and _ . + = @ -');
  }
  if (name.toLowerCase() === BASELINE_POLICY_NAME) {
    problems.push(`"${BASELINE_POLICY_NAME}" is the name of the baseline policy: choose another grant name`);
  }
  return problems;
}

/** Problems with a grant's expiry, requester, ticket and reason, judged at `now`. */
export function grantRequestProblems(request: GrantRequest, now: Date, maxGrantDurationSeconds: number): string[] {
  const problems: string[] = [];
  for (const [field, value] of [
    ['requestedBy', request.requestedBy],
    ['ticket', request.ticket],
    ['reason', request.reason],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${field} is missing: say ${FIELD_HINTS[field]}`);
  }
  let expiry: Date | undefined;
  try {
    expiry = parseExpiry(request.expiresAt, 'expiresAt');
  } catch (e) {
    problems.push(`${(e as Error).message}: write it like 2026-12-31T00:00:00Z`);
  }
  if (expiry) {
    if (expiry.getTime() <= now.getTime()) {
      problems.push(`expiresAt ${request.expiresAt} is not after now (${formatExpiry(now)}): renew or remove it`);
    } else {
      const latest = new Date(now.getTime() + maxGrantDurationSeconds * 1000);
      if (expiry.getTime() > latest.getTime()) {
        problems.push(
          `expiresAt ${request.expiresAt} is more than maxGrantDuration (${maxGrantDurationSeconds} s) after now (${formatExpiry(now)}): ` +
            `choose an expiry no later than ${formatExpiry(latest)} or raise maxGrantDuration`,
        );
      }
    }
  }
  if (problems.length === 0) {
    try {
      formatGrantTag(request);
    } catch (e) {
      problems.push(e instanceof ContractError ? `expiry tag: ${e.message}` : String(e));
    }
  }
  return problems;
}

const FIELD_HINTS = {
  requestedBy: 'who asked for the grant (e.g. alice@example.com)',
  ticket: 'which ticket approved it (e.g. SEC-1234)',
  reason: 'why the agent needs it',
} as const;

/** Problems with a role tag value (IAM: at most 256 characters, a limited character set). */
export function tagValueProblems(what: string, value: string): string[] {
  const problems: string[] = [];
  if (value.length > IAM_LIMITS.tagValueMaxLength) {
    problems.push(`${what} is ${value.length} characters; an IAM tag value holds at most ${IAM_LIMITS.tagValueMaxLength}: shorten it`);
  }
  if (!TAG_CHARS.test(value)) {
    problems.push(`${what} "${value}" has characters IAM refuses in a tag value: use letters, digits, spaces and _ . : / = + - @`);
  }
  return problems;
}

/**
 * The one expiry format, YYYY-MM-DDTHH:MM:SSZ, and its fail-closed parser:
 * a malformed expiry is an error, never "no expiry".
 */
import { ContractError } from './errors';

/** The one expiry format: an absolute UTC instant to the second, e.g. 2026-12-31T00:00:00Z. */
export const EXPIRY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Parses an expiry instant. Only the exact form YYYY-MM-DDTHH:MM:SSZ is
 * accepted, and the calendar date must exist: a malformed expiry is an error,
 * never "no expiry".
 */
export function parseExpiry(text: string, what = 'expiry'): Date {
  const m = EXPIRY_PATTERN.exec(text);
  if (!m) {
    throw new ContractError('BAD_EXPIRY', `${what} "${text}" is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC)`);
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    throw new ContractError('BAD_EXPIRY', `${what} "${text}" is not a real calendar instant`);
  }
  return date;
}

/**
 * Parses an instant given by a person (CLI flags): the expiry form, or any
 * ISO-8601 instant with an explicit zone (Z or ±HH:MM). Returns it in the
 * expiry form, truncated to the second.
 */
export function normalizeInstant(text: string, what = 'instant'): string {
  if (EXPIRY_PATTERN.test(text)) return formatExpiry(parseExpiry(text, what));
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = iso.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new ContractError('BAD_INSTANT', `${what} "${text}" is not an ISO-8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z`);
  }
  return formatExpiry(new Date(ms));
}

/** Formats an instant in the expiry form (seconds, UTC, Z). */
export function formatExpiry(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new ContractError('BAD_EXPIRY', 'cannot format an invalid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

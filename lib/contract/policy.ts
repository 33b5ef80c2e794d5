/**
 * Policy JSON: the date condition that ends a grant, statement access, and the
 * canonical form two documents IAM treats alike share.
 */
import { ContractError } from './errors';
import { parseExpiry } from './expiry';

export const EXPIRY_CONDITION_OPERATOR = 'DateLessThan';
export const EXPIRY_CONDITION_KEY = 'aws:CurrentTime';

/** A policy statement as IAM stores it (loosely typed: documents come from outside). */
export type StatementJson = Record<string, unknown>;
export interface PolicyDocumentJson {
  Version?: string;
  Statement: StatementJson | StatementJson[];
  [key: string]: unknown;
}

/**
 * Returns a copy of `statement` whose Condition also requires
 * aws:CurrentTime < expiresAt, replacing an earlier expiry condition (so a
 * renewal moves it) and keeping every other condition.
 */
export function withExpiryCondition(statement: StatementJson, expiresAt: string): StatementJson {
  parseExpiry(expiresAt, 'grant expiry');
  const condition = { ...((statement.Condition as Record<string, Record<string, unknown>> | undefined) ?? {}) };
  const dateLess = { ...(condition[EXPIRY_CONDITION_OPERATOR] ?? {}) };
  dateLess[EXPIRY_CONDITION_KEY] = expiresAt;
  condition[EXPIRY_CONDITION_OPERATOR] = dateLess;
  return { ...statement, Condition: condition };
}

/** The statements of a document as a list, whatever form IAM returned. */
export function statementsOf(document: PolicyDocumentJson): StatementJson[] {
  const s = document.Statement;
  if (Array.isArray(s)) return s;
  if (s && typeof s === 'object') return [s];
  throw new ContractError('BAD_POLICY_DOCUMENT', 'policy document has no Statement');
}

/** Rewrites every statement of a grant document with the expiry condition. */
export function grantDocumentWithExpiry(document: PolicyDocumentJson, expiresAt: string): PolicyDocumentJson {
  const Statement = statementsOf(document).map(s => withExpiryCondition(s, expiresAt));
  return { ...document, Version: document.Version ?? '2012-10-17', Statement };
}

/**
 * Canonical JSON of a policy document: keys sorted, single-item lists and
 * single statements folded, so that two documents IAM treats alike compare
 * equal (used to hold a baseline policy against the approved spec).
 */
export function canonicalPolicyJson(document: unknown): string {
  return JSON.stringify(canonicalize(document, []));
}

function canonicalize(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) {
    const items = value.map(v => canonicalize(v, path));
    // The order of statements, actions and resources carries no meaning in IAM.
    const sorted = items.map(v => JSON.stringify(v)).sort();
    const unique = [...new Set(sorted)].map(s => JSON.parse(s));
    return unique.length === 1 && path[path.length - 1] !== 'Statement' ? unique[0] : unique;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      if (key === 'Sid') continue;
      out[key] = canonicalize((value as Record<string, unknown>)[key], [...path, key]);
    }
    if (path.length === 0 && out.Statement && !Array.isArray(out.Statement)) out.Statement = [out.Statement];
    return out;
  }
  return value;
}

/**
 * Whether a policy document allowed one action on one resource at one
 * instant: enough of IAM's evaluation to attribute a recorded call to the
 * grant (or baseline policy) that allowed it. Action, NotAction, Resource,
 * NotResource and wildcards as IAM matches them (actions case-insensitively,
 * resources case-sensitively), and the date operators on aws:CurrentTime
 * that grant expiries are written with. Any other condition key, or a policy
 * variable in a resource, cannot be judged from the ledger alone: such a
 * statement answers `conditional` (it may have allowed the call), never
 * `allowed`.
 */
import { PolicyDocumentJson, statementsOf, StatementJson } from '../../contract';

/** `allowed`: an Allow statement matches and no Deny does; `denied`: a Deny matches; `conditional`: only with conditions we cannot judge. */
export type StatementVerdict = 'allowed' | 'denied' | 'conditional' | 'not-allowed';

function globToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function matchesAction(s: StatementJson, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some(p => globToRegExp(p, 'i').test(action));
  if (s.NotAction !== undefined) return !list(s.NotAction).some(p => globToRegExp(p, 'i').test(action));
  return false;
}

/** undefined: the statement names its resources with a policy variable, which only the request can resolve. */
function matchesResource(s: StatementJson, resource: string): boolean | undefined {
  const patterns = list(s.Resource ?? s.NotResource);
  if (patterns.some(p => p.includes('${'))) return undefined;
  const any = patterns.some(p => globToRegExp(p, '').test(resource));
  return s.Resource !== undefined ? any : s.NotResource !== undefined ? !any : false;
}

const DATE_OPERATORS: Record<string, (now: number, bound: number) => boolean> = {
  DateLessThan: (n, b) => n < b,
  DateLessThanEquals: (n, b) => n <= b,
  DateGreaterThan: (n, b) => n > b,
  DateGreaterThanEquals: (n, b) => n >= b,
};

/** true/false when every condition is a date bound on aws:CurrentTime; undefined when any other condition is present. */
function conditionsHold(s: StatementJson, at: number): boolean | undefined {
  const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
  if (!condition) return true;
  let holds = true;
  for (const [operator, keys] of Object.entries(condition)) {
    const test = DATE_OPERATORS[operator];
    for (const [key, value] of Object.entries(keys ?? {})) {
      if (!test || key.toLowerCase() !== 'aws:currenttime') return undefined;
      const bounds = list(value).map(v => Date.parse(v));
      if (bounds.some(Number.isNaN)) return undefined;
      // Several values of one key: IAM ORs them.
      if (!bounds.some(b => test(at, b))) holds = false;
    }
  }
  return holds;
}

/** The verdict of one document for `action` on `resource` at `at` (an ISO instant). */
export function documentVerdict(document: PolicyDocumentJson, action: string, resource: string, at: string): StatementVerdict {
  const instant = Date.parse(at);
  let allowed = false;
  let conditional = false;
  let conditionalDeny = false;
  for (const s of statementsOf(document)) {
    if (!matchesAction(s, action)) continue;
    const onResource = matchesResource(s, resource);
    if (onResource === false) continue;
    const holds = onResource === undefined ? undefined : conditionsHold(s, instant);
    if (holds === false) continue;
    if (s.Effect === 'Deny') {
      if (holds === true) return 'denied';
      conditionalDeny = true;
    } else if (s.Effect === 'Allow') {
      if (holds === true) allowed = true;
      else conditional = true;
    }
  }
  // A Deny we cannot judge may have refused what an Allow allowed.
  if (allowed) return conditionalDeny ? 'conditional' : 'allowed';
  return conditional ? 'conditional' : 'not-allowed';
}

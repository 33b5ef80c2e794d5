/**
 * Expands statement actions against the IAM action catalogue: exact names to
 * the catalogue's spelling, wildcards to the actions they stand for, and
 * whatever matches nothing reported as unknown.
 */
import { ContractError } from '../contract';
import { ActionCatalogue, iamActionCatalogue } from './action-catalogue';
import { hasWildcard, wildcardMatches } from './wildcard';

export interface ActionExpansion {
  /** Catalogue actions (`s3:GetObject`), sorted, each once. */
  readonly actions: readonly string[];
  /**
   * Actions or patterns, as written, that match no catalogue action: a typo,
   * an unknown service, or an action newer than the installed catalogue.
   */
  readonly unknown: readonly string[];
}

/**
 * Expands action patterns, caching each pattern's expansion. One expander is
 * shared by a whole analysis, so `s3:*` on twenty roles is expanded once.
 */
export class ActionExpander {
  private readonly cache = new Map<string, readonly string[]>();
  private everything?: readonly string[];

  constructor(public readonly catalogue: ActionCatalogue = iamActionCatalogue()) {}

  /**
   * The actions a statement's Action (or NotAction) allows. `notActions`
   * means every catalogue action except those; a statement has one or the other.
   */
  expand(actions: readonly string[] | undefined, notActions?: readonly string[]): ActionExpansion {
    if (actions && notActions) {
      throw new ContractError('BAD_STATEMENT', 'a statement has both Action and NotAction; IAM accepts only one');
    }
    if (notActions) {
      const excluded = this.expandList(notActions);
      const drop = new Set(excluded.actions);
      return { actions: this.allActions().filter(a => !drop.has(a)), unknown: excluded.unknown };
    }
    return this.expandList(actions ?? []);
  }

  /** One pattern's expansion (empty when it matches nothing). */
  expandPattern(pattern: string): readonly string[] {
    const key = pattern.toLowerCase();
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.compute(key);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private expandList(patterns: readonly string[]): ActionExpansion {
    const out = new Set<string>();
    const unknown = new Set<string>();
    for (const p of patterns) {
      const found = this.expandPattern(p);
      if (found.length === 0) unknown.add(p);
      for (const a of found) out.add(a);
    }
    return { actions: [...out].sort(), unknown: [...unknown].sort() };
  }

  private allActions(): readonly string[] {
    if (!this.everything) this.everything = this.compute('*');
    return this.everything;
  }

  private compute(pattern: string): readonly string[] {
    if (pattern === '*') {
      return this.catalogue
        .services()
        .flatMap(s => [...(this.catalogue.actionsOf(s)?.values() ?? [])].map(a => a.fullName))
        .sort();
    }
    const colon = pattern.indexOf(':');
    if (colon <= 0) return [];
    const servicePattern = pattern.slice(0, colon);
    const namePattern = pattern.slice(colon + 1);
    const services = hasWildcard(servicePattern)
      ? this.catalogue.services().filter(s => wildcardMatches(servicePattern, s))
      : [servicePattern];
    const out: string[] = [];
    for (const s of services) {
      const actions = this.catalogue.actionsOf(s);
      if (!actions) continue;
      if (!hasWildcard(namePattern)) {
        const a = actions.get(namePattern);
        if (a) out.push(a.fullName);
        continue;
      }
      for (const [name, a] of actions) {
        if (wildcardMatches(namePattern, name)) out.push(a.fullName);
      }
    }
    return out.sort();
  }
}

let sharedExpander: ActionExpander | undefined;

/** Expands with the installed catalogue and a process-wide cache. */
export function expandActions(actions: readonly string[] | undefined, notActions?: readonly string[]): ActionExpansion {
  if (!sharedExpander) sharedExpander = new ActionExpander();
  return sharedExpander.expand(actions, notActions);
}

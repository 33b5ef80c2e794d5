/**
 * The permission shadow (issue 7): what an agent can do directly and through
 * every chain of delegations, with the earliest expiry along each path.
 *
 * How it stays cheap:
 * - Each agent's direct reach (its Allow statements expanded against the
 *   catalogue, minus what its unconditional Denies surely cover) is computed
 *   once and shared by every path that ends at that agent; the action
 *   expansion cache is shared by all agents.
 * - Paths are the simple paths of the delegation graph, found by depth-first
 *   search from each agent. A path never revisits an agent: going round a
 *   cycle reaches nothing new and can only make the expiry earlier, so
 *   simple paths lose nothing, and the search ends on every graph.
 * - Downstream shadows are not reused across origins (shadow(A) built from
 *   shadow(B)), because with cycles B's shadow contains paths through A that
 *   A must not count; per-path expiries must stay exact, so the cost is
 *   (number of simple paths) × (size of the terminal's direct reach). That is
 *   linear for chains and trees; for pathologically dense graphs the paths
 *   per agent are capped (maxPathsPerAgent) and the shadow marked truncated.
 */
import { ContractError, parseExpiry } from '../contract';
import { ActionExpander } from './action-expansion';
import { AgentModel, AnalysedStatement, AnalysisProblem, ResourceRef, StatementSource } from './model';
import { wildcardCovers } from './wildcard';
import { compareCodeUnits } from './sort-order';

/** A chain of delegations from an agent (length 1: the agent itself). */
export interface ShadowPath {
  /** Agent ids from the origin to the agent whose role the path ends in. */
  readonly agents: readonly string[];
  /** The delegation used at each hop (`via`), one fewer than agents. */
  readonly via: readonly string[];
  /** The earliest delegation expiry along the path; undefined: no delegation on it expires. */
  readonly expiresAt?: string;
}

/** Actions on one resource, reached through one path from one kind of statement. */
export interface ShadowReach {
  /** Agent chain, origin first; `[origin]` for the agent's own statements. */
  readonly path: readonly string[];
  /** Delegations used, one per hop. */
  readonly via: readonly string[];
  readonly resource: ResourceRef;
  /** Catalogue actions, sorted. */
  readonly actions: readonly string[];
  /** Source of the statement on the last agent of the path. */
  readonly source: StatementSource;
  readonly grantName?: string;
  /** Approvals the statement carries (for the last agent's regimes). */
  readonly approvedRegimes?: readonly string[];
  /** Earliest of the statement's expiry and every delegation expiry on the path; undefined: never. */
  readonly expiresAt?: string;
}

export interface UnknownAction {
  readonly agentId: string;
  /** The action as written. */
  readonly action: string;
  readonly source: StatementSource;
  readonly grantName?: string;
}

export interface AgentShadow {
  readonly agentId: string;
  /** Every path from the agent, itself first. */
  readonly paths: readonly ShadowPath[];
  /** What the agent reaches, sorted by path, resource, source, grant. */
  readonly reaches: readonly ShadowReach[];
  /** Actions in the agent's own statements that the catalogue does not know. */
  readonly unknownActions: readonly UnknownAction[];
  /** True when paths were cut at maxPathsPerAgent. */
  readonly truncated: boolean;
}

export interface ShadowAnalysis {
  /** One per agent, sorted by agent id. */
  readonly agents: readonly AgentShadow[];
  readonly problems: readonly AnalysisProblem[];
}

export interface ShadowOptions {
  /** Shared expander (and so the catalogue). @default - the installed catalogue */
  readonly expander?: ActionExpander;
  /** Paths followed from one agent before its shadow is marked truncated. @default 1000 */
  readonly maxPathsPerAgent?: number;
}

export const DEFAULT_MAX_PATHS_PER_AGENT = 1000;

/** The earlier of two expiries; undefined means "never". Expiry strings compare in time order. */
export function earlierExpiry(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/** The later of two expiries; undefined ("never") is the latest. */
export function laterExpiry(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a > b ? a : b;
}

interface DirectReach {
  readonly reaches: readonly Omit<ShadowReach, 'path' | 'via'>[];
  readonly unknown: readonly UnknownAction[];
}

/** The permission shadow of every agent. Throws ContractError on a malformed model (bad expiry, duplicate agent). */
export function computeShadow(agents: readonly AgentModel[], options: ShadowOptions = {}): ShadowAnalysis {
  const expander = options.expander ?? new ActionExpander();
  const maxPaths = options.maxPathsPerAgent ?? DEFAULT_MAX_PATHS_PER_AGENT;
  const byId = indexAgents(agents);
  const problems: AnalysisProblem[] = [];

  for (const a of agents) {
    for (const d of a.delegations) {
      if (d.expiresAt !== undefined) parseExpiry(d.expiresAt, `agent ${a.agentId} delegation ${d.via} expiry`);
      if (!byId.has(d.toAgentId)) {
        problems.push({
          code: 'UNKNOWN_DELEGATE',
          agentId: a.agentId,
          message:
            `agent "${a.agentId}" delegates to "${d.toAgentId}" (via ${d.via}), which is not a governed agent in this analysis: ` +
            'its permissions are not in the shadow',
        });
      }
    }
  }

  const direct = new Map<string, DirectReach>();
  const directOf = (id: string): DirectReach => {
    let d = direct.get(id);
    if (!d) {
      d = directReach(byId.get(id)!, expander);
      direct.set(id, d);
    }
    return d;
  };

  const shadows: AgentShadow[] = [];
  for (const origin of [...byId.keys()].sort()) {
    const paths = simplePaths(origin, byId, maxPaths);
    if (paths.truncated) {
      problems.push({
        code: 'SHADOW_TRUNCATED',
        agentId: origin,
        message:
          `agent "${origin}" has more than ${maxPaths} delegation paths; its shadow lists the first ${maxPaths}. ` +
          'Simplify the delegation graph',
      });
    }
    const reaches: ShadowReach[] = [];
    for (const p of paths.paths) {
      const terminal = p.agents[p.agents.length - 1];
      for (const r of directOf(terminal).reaches) {
        reaches.push({ ...r, path: p.agents, via: p.via, expiresAt: earlierExpiry(p.expiresAt, r.expiresAt) });
      }
    }
    reaches.sort(compareReaches);
    shadows.push({ agentId: origin, paths: paths.paths, reaches, unknownActions: directOf(origin).unknown, truncated: paths.truncated });
  }
  return { agents: shadows, problems };
}

function indexAgents(agents: readonly AgentModel[]): Map<string, AgentModel> {
  const byId = new Map<string, AgentModel>();
  for (const a of agents) {
    if (byId.has(a.agentId)) throw new ContractError('DUPLICATE_AGENT', `two agents have the id "${a.agentId}"; agent ids must be unique`);
    byId.set(a.agentId, a);
  }
  return byId;
}

function simplePaths(origin: string, byId: ReadonlyMap<string, AgentModel>, maxPaths: number): { paths: ShadowPath[]; truncated: boolean } {
  const paths: ShadowPath[] = [];
  let truncated = false;
  const onPath = new Set<string>();
  const visit = (agents: string[], via: string[], expiresAt: string | undefined): void => {
    if (paths.length >= maxPaths) {
      truncated = true;
      return;
    }
    paths.push({ agents, via, ...(expiresAt !== undefined ? { expiresAt } : {}) });
    const here = byId.get(agents[agents.length - 1])!;
    onPath.add(here.agentId);
    const delegations = [...here.delegations].sort((x, y) => compareCodeUnits(x.toAgentId, y.toAgentId) || compareCodeUnits(x.via, y.via));
    for (const d of delegations) {
      if (onPath.has(d.toAgentId) || !byId.has(d.toAgentId)) continue;
      visit([...agents, d.toAgentId], [...via, d.via], earlierExpiry(expiresAt, d.expiresAt));
    }
    onPath.delete(here.agentId);
  };
  visit([origin], [], undefined);
  return { paths, truncated };
}

function directReach(agent: AgentModel, expander: ActionExpander): DirectReach {
  const unknown = new Map<string, UnknownAction>();
  const noteUnknown = (s: AnalysedStatement, actions: readonly string[]) => {
    for (const action of actions) {
      const u: UnknownAction = {
        agentId: agent.agentId,
        action,
        source: s.source,
        ...(s.grantName !== undefined ? { grantName: s.grantName } : {}),
      };
      unknown.set(`${action}\u0000${s.source}\u0000${s.grantName ?? ''}`, u);
    }
  };

  // Group Allow statements by (resource, source, grant, expiry, approvals): actions merge.
  const groups = new Map<string, { base: Omit<ShadowReach, 'path' | 'via' | 'actions'>; actions: Set<string> }>();
  const denies: { resources: readonly ResourceRef[]; actions: ReadonlySet<string> }[] = [];
  for (const s of agent.statements) {
    if (s.expiresAt !== undefined) parseExpiry(s.expiresAt, `agent ${agent.agentId} ${s.source} ${s.grantName ?? ''} expiry`);
    const expansion = expander.expand(s.actions, s.notActions);
    noteUnknown(s, expansion.unknown);
    if (s.effect === 'Deny') {
      // Only a Deny that surely applies is subtracted: the shadow errs towards showing access.
      if (!s.conditional && !s.notResources) denies.push({ resources: s.resources, actions: new Set(expansion.actions) });
      continue;
    }
    if (expansion.actions.length === 0) continue;
    const resources = s.notResources ? [{ text: '*' }] : s.resources;
    const approved = s.approvedRegimes && s.approvedRegimes.length > 0 ? [...new Set(s.approvedRegimes)].sort() : undefined;
    for (const resource of resources) {
      const key = [resource.text, resource.storeKey ?? '', s.source, s.grantName ?? '', s.expiresAt ?? '', (approved ?? []).join(',')].join(
        '\u0000',
      );
      let g = groups.get(key);
      if (!g) {
        g = {
          base: {
            resource: resource.storeKey !== undefined ? { text: resource.text, storeKey: resource.storeKey } : { text: resource.text },
            source: s.source,
            ...(s.grantName !== undefined ? { grantName: s.grantName } : {}),
            ...(approved ? { approvedRegimes: approved } : {}),
            ...(s.expiresAt !== undefined ? { expiresAt: s.expiresAt } : {}),
          },
          actions: new Set(),
        };
        groups.set(key, g);
      }
      for (const a of expansion.actions) g.actions.add(a);
    }
  }

  const reaches: Omit<ShadowReach, 'path' | 'via'>[] = [];
  for (const g of groups.values()) {
    for (const d of denies) {
      if (d.resources.some(r => denyCovers(r, g.base.resource))) {
        for (const a of d.actions) g.actions.delete(a);
      }
    }
    if (g.actions.size > 0) reaches.push({ ...g.base, actions: [...g.actions].sort() });
  }
  const sorted = [...unknown.values()].sort(
    (x, y) =>
      compareCodeUnits(x.action, y.action) ||
      compareCodeUnits(x.source, y.source) ||
      compareCodeUnits(x.grantName ?? '', y.grantName ?? ''),
  );
  return { reaches, unknown: sorted };
}

function denyCovers(deny: ResourceRef, allow: ResourceRef): boolean {
  if (deny.storeKey !== undefined && deny.storeKey === allow.storeKey && deny.text === allow.text) return true;
  return wildcardCovers(deny.text, allow.text);
}

function compareReaches(x: ShadowReach, y: ShadowReach): number {
  return (
    compareCodeUnits(x.path.join('\u0000'), y.path.join('\u0000')) ||
    compareCodeUnits(x.via.join('\u0000'), y.via.join('\u0000')) ||
    compareCodeUnits(x.resource.text, y.resource.text) ||
    compareCodeUnits(x.resource.storeKey ?? '', y.resource.storeKey ?? '') ||
    compareCodeUnits(x.source, y.source) ||
    compareCodeUnits(x.grantName ?? '', y.grantName ?? '') ||
    compareCodeUnits(x.expiresAt ?? '~', y.expiresAt ?? '~') ||
    compareCodeUnits((x.approvedRegimes ?? []).join(','), (y.approvedRegimes ?? []).join(','))
  );
}

/** Every reach of the shadow that allows `action` (catalogue spelling, any case) on a resource overlapping `resourceText`. */
export function reachesFor(shadow: AgentShadow, action: string, resourceText?: string): readonly ShadowReach[] {
  const wanted = action.toLowerCase();
  return shadow.reaches.filter(
    r =>
      r.actions.some(a => a.toLowerCase() === wanted) &&
      (resourceText === undefined || r.resource.text === resourceText || wildcardCovers(r.resource.text, resourceText)),
  );
}

/**
 * How long the agent keeps `action` on the resource by any path: the latest
 * expiry among the reaches that allow it (undefined: never expires), or null
 * when the agent cannot reach it at all.
 */
export function accessUntil(shadow: AgentShadow, action: string, resourceText?: string): string | undefined | null {
  const rs = reachesFor(shadow, action, resourceText);
  if (rs.length === 0) return null;
  return rs.map(r => r.expiresAt).reduce(laterExpiry);
}

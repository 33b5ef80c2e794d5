/**
 * Compliance scopes (issue 7): an agent declares the regimes it may touch; a
 * statement that reaches a store of another regime is a violation unless its
 * grant carries an approval for that regime. Reaching such a store through a
 * delegation is a violation too, unless the delegation carries the approval.
 *
 * Regimes compare case-insensitively (tag values are typed by people). A
 * store without a regime is never a violation (the inventory shows it as
 * unknown). An agent with no regimes may touch no regulated store. An
 * account-level action (no resource types, e.g. s3:ListAllMyBuckets) reaches
 * no store even on `*`.
 */
import { actsOnResources } from './action-catalogue';
import { ActionExpander } from './action-expansion';
import { AgentModel, StatementSource, StoreModel } from './model';
import { AgentShadow, ShadowAnalysis, ShadowReach, computeShadow } from './shadow';
import { StoreIndex } from './store-match';
import { compareCodeUnits } from './sort-order';

export type ComplianceCode = 'REGIME_CROSSING' | 'DELEGATED_REGIME_CROSSING';

export interface ComplianceFinding {
  /** REGIME_CROSSING: the agent's own statement; DELEGATED_REGIME_CROSSING: through a delegation. */
  readonly code: ComplianceCode;
  readonly agentId: string;
  readonly agentRegimes: readonly string[];
  readonly storeKey: string;
  readonly storeName: string;
  readonly storeRegime: string;
  /** Source and grant of the statement that reaches the store (on the last agent of the path). */
  readonly source: StatementSource;
  readonly grantName?: string;
  /** Agent chain to the statement; `[agentId]` for the agent's own. */
  readonly path: readonly string[];
  /** The agent's own delegation the path starts with (delegated findings). */
  readonly delegation?: string;
  /** Some of the actions that reach the store. */
  readonly actions: readonly string[];
  /** True when a grant (or the delegation) approves the regime: reported, not a violation. */
  readonly approved: boolean;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export interface ComplianceResult {
  /** Crossings nothing approves: synth should fail on these. Sorted. */
  readonly violations: readonly ComplianceFinding[];
  /** Crossings an approval covers: the report lists them. Sorted. */
  readonly approved: readonly ComplianceFinding[];
}

export interface ComplianceOptions {
  /** A shadow already computed for the same agents. @default - computed here */
  readonly shadow?: ShadowAnalysis;
  readonly expander?: ActionExpander;
}

export function normalizeRegime(regime: string): string {
  return regime.trim().toLowerCase();
}

const MAX_ACTIONS_NAMED = 5;

/** Compliance findings for every agent. */
export function checkCompliance(
  agents: readonly AgentModel[],
  stores: readonly StoreModel[],
  options: ComplianceOptions = {},
): ComplianceResult {
  const expander = options.expander ?? new ActionExpander();
  const shadow = options.shadow ?? computeShadow(agents, { expander });
  const index = new StoreIndex(stores);
  const onResources = new Map<string, boolean>();
  const touchesStores = (action: string): boolean => {
    let t = onResources.get(action);
    if (t === undefined) {
      t = actsOnResources(expander.catalogue, action);
      onResources.set(action, t);
    }
    return t;
  };
  const byId = new Map(agents.map(a => [a.agentId, a]));
  const findings = new Map<string, ComplianceFinding>();

  for (const s of shadow.agents) {
    const agent = byId.get(s.agentId);
    if (!agent) continue;
    const own = new Set(agent.regimes.map(normalizeRegime));
    for (const reach of s.reaches) {
      for (const [store, actions] of storesReached(index, reach, touchesStores)) {
        if (store.regime === undefined || own.has(normalizeRegime(store.regime))) continue;
        const finding = describe(agent, s, reach, store, actions);
        const id = `${finding.code}\u0000${finding.delegation ?? ''}\u0000${reach.source}\u0000${reach.grantName ?? ''}\u0000${store.key}`;
        const earlier = findings.get(id);
        // One finding per (agent, first delegation, statement, store): keep the shortest path as the example.
        if (!earlier || finding.path.length < earlier.path.length) findings.set(id, finding);
      }
    }
  }
  const all = [...findings.values()].sort((x, y) => compareCodeUnits(key(x), key(y)));
  return { violations: all.filter(f => !f.approved), approved: all.filter(f => f.approved) };
}

function key(f: ComplianceFinding): string {
  return [f.agentId, f.storeKey, f.code, f.delegation ?? '', f.source, f.grantName ?? '', f.path.join('>')].join('\u0000');
}

function storesReached(index: StoreIndex, reach: ShadowReach, touchesStores: (action: string) => boolean): Map<StoreModel, string[]> {
  const out = new Map<StoreModel, string[]>();
  for (const action of reach.actions) {
    if (!touchesStores(action)) continue;
    for (const store of index.storesActedOn(action, reach.resource)) {
      const list = out.get(store) ?? [];
      list.push(action);
      out.set(store, list);
    }
  }
  return out;
}

function describe(
  agent: AgentModel,
  shadow: AgentShadow,
  reach: ShadowReach,
  store: StoreModel,
  actions: readonly string[],
): ComplianceFinding {
  const regime = normalizeRegime(store.regime!);
  const agentRegimes = [...new Set(agent.regimes.map(normalizeRegime))].sort();
  const storeName = store.displayName ?? store.key;
  const direct = reach.path.length === 1;
  const statement =
    reach.source === 'baseline'
      ? `baseline statement on ${quote(reach.resource.text)}`
      : `${reach.source} "${reach.grantName ?? '(unnamed)'}" on ${quote(reach.resource.text)}`;
  const more = actions.length > MAX_ACTIONS_NAMED ? `, and ${actions.length - MAX_ACTIONS_NAMED} more` : '';
  const named = actions.slice(0, MAX_ACTIONS_NAMED).join(', ') + more;
  const regimesText = agentRegimes.length > 0 ? agentRegimes.map(r => `"${r}"`).join(', ') : 'none';
  const base = {
    agentId: agent.agentId,
    agentRegimes,
    storeKey: store.key,
    storeName,
    storeRegime: regime,
    source: reach.source,
    ...(reach.grantName !== undefined ? { grantName: reach.grantName } : {}),
    path: reach.path,
    actions: actions.slice(0, MAX_ACTIONS_NAMED),
  };
  if (direct) {
    const approved = (reach.approvedRegimes ?? []).map(normalizeRegime).includes(regime);
    return {
      ...base,
      code: 'REGIME_CROSSING',
      approved,
      message:
        `agent "${agent.agentId}" (regimes: ${regimesText}) reaches store "${storeName}" of regime "${regime}" ` +
        `through its ${statement} (${named}). ` +
        (approved
          ? `Approved for "${regime}" on the grant.`
          : `Fix: narrow the statement's resources, add "${regime}" to the agent's regimes, or approve "${regime}" on the grant.`),
    };
  }
  const agentById = shadow.agentId;
  const firstVia = reach.via[0];
  const delegation = agent.delegations.find(d => d.via === firstVia && d.toAgentId === reach.path[1]);
  const approved = (delegation?.approvedRegimes ?? []).map(normalizeRegime).includes(regime);
  const last = reach.path[reach.path.length - 1];
  return {
    ...base,
    code: 'DELEGATED_REGIME_CROSSING',
    delegation: firstVia,
    approved,
    message:
      `agent "${agentById}" (regimes: ${regimesText}) reaches store "${storeName}" of regime "${regime}" ` +
      `through delegation "${firstVia}" ` +
      `(path ${reach.path.join(' -> ')}; ${statement} of agent "${last}": ${named}). ` +
      (approved
        ? `Approved for "${regime}" on the delegation.`
        : `Fix: add "${regime}" to "${agentById}"'s regimes, approve "${regime}" on the delegation, or remove the delegation.`),
  };
}

function quote(text: string): string {
  return `"${text}"`;
}

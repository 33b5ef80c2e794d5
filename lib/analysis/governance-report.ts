/**
 * The governance report (issue 7): shadow, compliance and store inventory of
 * every agent, as JSON for tools and Markdown for people. Written into the
 * cloud assembly, so it is deterministic: sorted, no timestamps, no paths of
 * the machine that synthesized it.
 */
import { ActionExpander } from './action-expansion';
import { AgentModel, AnalysisProblem, StoreModel } from './model';
import { ComplianceResult, checkCompliance, normalizeRegime } from './compliance';
import { AgentShadow, ShadowOptions, computeShadow } from './shadow';
import { AgentInventory, storeInventory } from './store-inventory';
import { compareCodeUnits } from './sort-order';

export const REPORT_VERSION = 1;
/** File names of the report in the cloud assembly directory. */
export const REPORT_JSON_FILE = 'permission-decay.governance.json';
export const REPORT_MARKDOWN_FILE = 'permission-decay.governance.md';

export interface AgentReport {
  readonly agentId: string;
  readonly regimes: readonly string[];
  readonly delegations: readonly { readonly toAgentId: string; readonly via: string; readonly expiresAt?: string }[];
  readonly shadow: AgentShadow;
  readonly inventory: AgentInventory['stores'];
}

export interface GovernanceReport {
  readonly version: number;
  /** Sorted by agent id. */
  readonly agents: readonly AgentReport[];
  readonly compliance: ComplianceResult;
  readonly problems: readonly AnalysisProblem[];
}

/** Runs the whole analysis once (one expander, one shadow) and assembles the report. */
export function buildGovernanceReport(
  agents: readonly AgentModel[],
  stores: readonly StoreModel[],
  options: ShadowOptions = {},
): GovernanceReport {
  const expander = options.expander ?? new ActionExpander();
  const shadow = computeShadow(agents, { ...options, expander });
  const compliance = checkCompliance(agents, stores, { shadow, expander });
  const inventory = new Map(storeInventory(agents, stores, { shadow, expander }).map(i => [i.agentId, i.stores]));
  const byId = new Map(agents.map(a => [a.agentId, a]));
  return {
    version: REPORT_VERSION,
    agents: shadow.agents.map(s => {
      const a = byId.get(s.agentId)!;
      return {
        agentId: a.agentId,
        regimes: [...new Set(a.regimes.map(normalizeRegime))].sort(),
        delegations: [...a.delegations]
          .map(d => ({ toAgentId: d.toAgentId, via: d.via, ...(d.expiresAt !== undefined ? { expiresAt: d.expiresAt } : {}) }))
          .sort((x, y) => compareCodeUnits(x.toAgentId, y.toAgentId) || compareCodeUnits(x.via, y.via)),
        shadow: s,
        inventory: inventory.get(s.agentId) ?? [],
      };
    }),
    compliance,
    problems: [...shadow.problems].sort(
      (x, y) =>
        compareCodeUnits(x.agentId ?? '', y.agentId ?? '') || compareCodeUnits(x.code, y.code) || compareCodeUnits(x.message, y.message),
    ),
  };
}

/** The report as JSON: object keys sorted, two-space indent, trailing newline. Arrays keep the analysis' sorted order. */
export function renderReportJson(report: GovernanceReport): string {
  return `${JSON.stringify(sortKeys(report), undefined, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Actions listed by name in a Markdown cell before the rest are counted per service. */
const MAX_ACTIONS_LISTED = 6;

/** The report as Markdown tables. */
export function renderReportMarkdown(report: GovernanceReport): string {
  const lines: string[] = ['# Permission-decay governance report', ''];
  const v = report.compliance.violations;
  lines.push(
    `${report.agents.length} agent(s), ${v.length} compliance violation(s), ` +
      `${report.compliance.approved.length} approved regime crossing(s).`,
    '',
  );

  if (v.length > 0 || report.compliance.approved.length > 0) {
    lines.push('## Compliance', '');
    lines.push(
      table(
        ['Agent', 'Store', 'Store regime', 'Agent regimes', 'Through', 'Status', 'Detail'],
        [...v, ...report.compliance.approved].map(f => [
          f.agentId,
          f.storeName,
          f.storeRegime,
          f.agentRegimes.join(', ') || 'none',
          f.path.join(' → ') + (f.grantName ? ` (${f.source} ${f.grantName})` : ` (${f.source})`),
          f.approved ? 'approved' : '**violation**',
          f.message,
        ]),
      ),
      '',
    );
  }

  for (const a of report.agents) {
    lines.push(`## Agent \`${a.agentId}\``, '');
    lines.push(`- Regimes: ${a.regimes.join(', ') || 'none'}`);
    const delegates = a.delegations.map(d => `${d.toAgentId} via ${d.via}${d.expiresAt ? ` until ${d.expiresAt}` : ''}`).join('; ');
    lines.push(`- Delegates to: ${delegates || 'nobody'}`);
    if (a.shadow.truncated) lines.push('- **Shadow truncated**: too many delegation paths; see problems.');
    lines.push('');
    lines.push('### Permission shadow', '');
    lines.push(
      a.shadow.reaches.length === 0
        ? 'Reaches nothing.'
        : table(
            ['Path', 'Resource', 'Actions', 'Statement', 'Expires'],
            a.shadow.reaches.map(r => [
              r.path.join(' → '),
              r.resource.storeKey ? `${r.resource.text} (${r.resource.storeKey})` : r.resource.text,
              summarizeActions(r.actions),
              r.grantName ? `${r.source} ${r.grantName}` : r.source,
              r.expiresAt ?? 'never',
            ]),
          ),
    );
    lines.push('');
    lines.push('### Store inventory: data stores it can write to', '');
    const inventoryColumns = ['Store', 'Kind', 'Regime', 'Retention', 'Owner', 'Write actions', 'Through', 'Until'];
    lines.push(
      a.inventory.length === 0
        ? 'None.'
        : table(
            inventoryColumns,
            a.inventory.map(e => [
              e.known ? e.name : `${e.name} (not a known store)`,
              e.kind,
              e.regime,
              e.retention,
              e.owner,
              summarizeActions(e.writeActions),
              e.routes
                .map(r => r.path.join(' → '))
                .filter((p, i, all) => all.indexOf(p) === i)
                .join('; '),
              e.expiresAt ?? 'never',
            ]),
          ),
    );
    lines.push('');
    if (a.shadow.unknownActions.length > 0) {
      lines.push('### Actions the IAM catalogue does not know', '');
      const rows = a.shadow.unknownActions.map(u => [u.action, u.grantName ? `${u.source} ${u.grantName}` : u.source]);
      lines.push(table(['Action', 'Statement'], rows), '');
    }
  }

  if (report.problems.length > 0) {
    lines.push('## Problems', '');
    lines.push(
      table(
        ['Code', 'Agent', 'Message'],
        report.problems.map(p => [p.code, p.agentId ?? '', p.message]),
      ),
      '',
    );
  }
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/** A few actions by name, the rest counted per service: a cell a person can read even for `*`. */
export function summarizeActions(actions: readonly string[]): string {
  if (actions.length <= MAX_ACTIONS_LISTED) return actions.join(', ');
  const perService = new Map<string, number>();
  for (const a of actions) {
    const s = a.slice(0, a.indexOf(':'));
    perService.set(s, (perService.get(s) ?? 0) + 1);
  }
  if (perService.size === 1) {
    return `${actions.slice(0, MAX_ACTIONS_LISTED).join(', ')} and ${actions.length - MAX_ACTIONS_LISTED} more`;
  }
  const services = [...perService.entries()].sort((x, y) => y[1] - x[1] || compareCodeUnits(x[0], y[0]));
  const shown = services
    .slice(0, MAX_ACTIONS_LISTED)
    .map(([s, n]) => `${s} (${n})`)
    .join(', ');
  const rest = services.length - MAX_ACTIONS_LISTED;
  return `${actions.length} actions: ${shown}${rest > 0 ? ` and ${rest} more services` : ''}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map(r => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

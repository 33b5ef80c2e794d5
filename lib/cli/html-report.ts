/**
 * `report --html`: one self-contained page (inline CSS, SVG and one small
 * script; no request leaves the file) with, per agent, the timeline of its
 * ledger records, its delegation graph and its store inventory from the
 * governance report. Every text that comes from the ledger, a tag or the
 * assembly is escaped: an agent can write its own tags, and a page that ran
 * what it wrote would hand it the reader's browser.
 */
import { createHash } from 'crypto';
import { LedgerRecord } from '../contract';
import { AgentReport, GovernanceReport, summarizeActions } from '../analysis';

/** What the page shows. */
export interface HtmlReportInput {
  /** The governance report of the cloud assembly. */
  readonly report: GovernanceReport;
  /** Each governed role's records in chain order, by role name; absent: the ledger was not read. */
  readonly ledger?: ReadonlyMap<string, readonly LedgerRecord[]>;
  /** Where the ledger came from (its table name), for the header. */
  readonly ledgerTable?: string;
  /** When the page was made (ISO-8601). */
  readonly generatedAt: string;
}

/** Text for an HTML text node or a quoted attribute. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const HOLDING = new Set(['requested', 'kept', 'warned', 'drift', 'renewed', 'restored', 'tampering', 'repaired']);
const ENDING = new Set(['revoked', 'cleaned']);
/** Marker colour per decision; the legend prints the same table. */
const DECISION_COLOURS: Record<string, string> = {
  requested: '#2563eb',
  kept: '#64748b',
  warned: '#d97706',
  renewed: '#16a34a',
  revoked: '#dc2626',
  drift: '#ea580c',
  restored: '#7c3aed',
  tampering: '#be123c',
  repaired: '#0891b2',
  cleaned: '#6b7280',
  checkpoint: '#0f766e',
  error: '#991b1b',
};

/** One held stretch of a grant: from the record that first shows it held to the one that ended it (or still open). */
interface Segment {
  readonly from: string;
  readonly to?: string;
  readonly drift: boolean;
  /** The last expiry recorded while it was held. */
  readonly expiresAt?: string;
}

interface GrantRow {
  readonly roleName: string;
  readonly grant: string;
  readonly records: LedgerRecord[];
  readonly segments: Segment[];
}

function grantRows(roleName: string, records: readonly LedgerRecord[]): GrantRow[] {
  const rows = new Map<string, GrantRow & { open?: { from: string; drift: boolean; expiresAt?: string } }>();
  for (const r of records) {
    if (!r.grant) continue;
    let row = rows.get(r.grant);
    if (!row) rows.set(r.grant, (row = { roleName, grant: r.grant, records: [], segments: [] }));
    row.records.push(r);
    if (HOLDING.has(r.decision)) {
      row.open ??= { from: r.at, drift: r.decision === 'drift' };
      row.open.expiresAt = r.expiresAt ?? row.open.expiresAt;
    } else if (ENDING.has(r.decision) && row.open) {
      row.segments.push({ from: row.open.from, to: r.at, drift: row.open.drift, expiresAt: row.open.expiresAt });
      row.open = undefined;
    }
  }
  return [...rows.values()].map(row => ({
    roleName: row.roleName,
    grant: row.grant,
    records: row.records,
    segments: row.open ? [...row.segments, { from: row.open.from, drift: row.open.drift, expiresAt: row.open.expiresAt }] : row.segments,
  }));
}

/** The roles the ledger shows acting for `agentId` (by the agentId their records carry). */
function rolesOf(agentId: string, ledger: ReadonlyMap<string, readonly LedgerRecord[]>): string[] {
  return [...ledger.entries()]
    .filter(([, records]) => records.some(r => r.agentId === agentId))
    .map(([role]) => role)
    .sort();
}

const ms = (iso: string) => Date.parse(iso);
const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max - 1) + '…' : text);
const drawOrder = (r: LedgerRecord) => (r.decision === 'kept' ? 0 : r.decision === 'warned' ? 1 : 2);

function timelineSvg(agentId: string, rows: GrantRow[], roleRecords: LedgerRecord[], baseline: string): string {
  const all = [...rows.flatMap(r => r.records), ...roleRecords];
  if (all.length === 0) return '<p class="empty">The ledger has no records for this agent yet.</p>';
  const times = [...all.map(r => ms(r.at)), ...rows.flatMap(r => r.segments.map(s => (s.expiresAt ? ms(s.expiresAt) : NaN)))].filter(t =>
    Number.isFinite(t),
  );
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 - t0 < 3600_000) {
    t0 -= 1800_000;
    t1 += 1800_000;
  }
  const left = 230,
    width = 960,
    right = 20,
    rowH = 26,
    top = 30;
  const x = (iso: string) => left + ((ms(iso) - t0) / (t1 - t0)) * (width - left - right);
  const lines: string[] = [];
  const label = (y: number, text: string, cls = 'lbl') =>
    `<text class="${cls}" x="${left - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(clip(text, 30))}` +
    `<title>${escapeHtml(text)}</title></text>`;
  const marker = (r: LedgerRecord, y: number) => {
    const colour = DECISION_COLOURS[r.decision] ?? '#334155';
    const cx = x(r.at).toFixed(1);
    const tip = `${r.at} ${r.decision}${r.grant ? ` ${r.grant}` : ''}${r.expiresAt ? ` (expires ${r.expiresAt})` : ''}: ${r.message}`;
    const shape =
      r.decision === 'revoked'
        ? `<path d="M${+cx - 5} ${y + 6} l10 10 m0 -10 l-10 10" stroke="${colour}" stroke-width="3"/>`
        : `<circle cx="${cx}" cy="${y + 11}" r="5" fill="${colour}" stroke="#fff" stroke-width="1"/>`;
    return `<g class="mark" data-decision="${escapeHtml(r.decision)}"><title>${escapeHtml(tip)}</title>${shape}</g>`;
  };
  let y = top;
  lines.push(
    `<rect class="bar baseline" x="${left}" y="${y + 3}" width="${width - left - right}" height="16" rx="3"/>` +
      `<text class="inbar" x="${left + 6}" y="${y + 15}">${escapeHtml(clip(baseline, 110))}</text>`,
  );
  lines.push(`<g><title>${escapeHtml(`baseline: ${baseline}`)}</title>${label(y, 'baseline', 'lbl strong')}</g>`);
  y += rowH;
  for (const row of rows) {
    lines.push(label(y, rows.some(o => o.roleName !== row.roleName) ? `${row.grant} (${row.roleName})` : row.grant));
    for (const s of row.segments) {
      const end = s.to ?? s.expiresAt;
      const x1 = x(s.from);
      const x2 = end ? Math.max(x(end), x1 + 2) : width - right;
      const title = `${row.grant}: held from ${s.from}${s.to ? ` to ${s.to}` : s.expiresAt ? `, expires ${s.expiresAt}` : ''}`;
      lines.push(
        `<rect class="bar ${s.drift ? 'drift' : 'grant'}${s.to ? '' : ' open'}" x="${x1.toFixed(1)}" y="${y + 5}" ` +
          `width="${(x2 - x1).toFixed(1)}" height="12" rx="3"><title>${escapeHtml(title)}</title></rect>`,
      );
    }
    // Records at one instant share a spot: routine ones are drawn first, so a renewal or revocation stays visible on top.
    for (const r of [...row.records].sort((p, q) => drawOrder(p) - drawOrder(q))) lines.push(marker(r, y));
    y += rowH;
  }
  if (roleRecords.length) {
    lines.push(label(y, 'role (checkpoints, tags)'));
    for (const r of roleRecords) lines.push(marker(r, y));
    y += rowH;
  }
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(f => {
    const t = new Date(t0 + f * (t1 - t0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const tx = left + f * (width - left - right);
    return (
      `<line class="tick" x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${y}"/>` +
      `<text class="axis" x="${tx}" y="${top - 10}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}">` +
      `${escapeHtml(t.slice(0, 16))}</text>`
    );
  });
  return (
    `<svg class="timeline" role="img" aria-label="${escapeHtml(`timeline of ${agentId}`)}" viewBox="0 0 ${width} ${y + 6}" ` +
    `width="${width}" height="${y + 6}" xmlns="http://www.w3.org/2000/svg">${ticks.join('')}${lines.join('')}</svg>`
  );
}

function delegationSvg(agent: AgentReport): string {
  const depth = new Map<string, number>([[agent.agentId, 0]]);
  const edges = new Map<string, { from: string; to: string; via: string; expiresAt?: string }>();
  for (const p of agent.shadow.paths) {
    p.agents.forEach((a, i) => {
      if (!depth.has(a) || depth.get(a)! > i) depth.set(a, i);
    });
    for (let i = 1; i < p.agents.length; i++) {
      const key = `${p.agents[i - 1]}\u0000${p.agents[i]}\u0000${p.via[i - 1]}`;
      edges.set(key, { from: p.agents[i - 1], to: p.agents[i], via: p.via[i - 1] ?? '' });
    }
  }
  for (const d of agent.delegations) {
    if (!depth.has(d.toAgentId)) depth.set(d.toAgentId, 1);
    const key = `${agent.agentId}\u0000${d.toAgentId}\u0000${d.via}`;
    edges.set(key, { from: agent.agentId, to: d.toAgentId, via: d.via, expiresAt: d.expiresAt });
  }
  if (edges.size === 0) return '<p class="empty">Delegates to nobody: it reaches only what its own role allows.</p>';
  const layers = new Map<number, string[]>();
  for (const [a, dpt] of [...depth.entries()].sort((p, q) => p[0].localeCompare(q[0]))) layers.set(dpt, [...(layers.get(dpt) ?? []), a]);
  const colW = 260,
    rowH = 64,
    boxW = 190,
    boxH = 34;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [dpt, names] of layers) names.forEach((n, i) => pos.set(n, { x: 10 + dpt * colW, y: 10 + i * rowH }));
  const height = Math.max(...[...layers.values()].map(l => l.length)) * rowH + 10;
  const width = (Math.max(...layers.keys()) + 1) * colW;
  const parts: string[] = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" ' +
      'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#475569"/></marker></defs>',
  ];
  for (const e of edges.values()) {
    const a = pos.get(e.from)!,
      b = pos.get(e.to)!;
    const x1 = a.x + boxW,
      y1 = a.y + boxH / 2,
      x2 = b.x,
      y2 = b.y + boxH / 2;
    const text = `${e.via}${e.expiresAt ? ` until ${e.expiresAt}` : ''}`;
    parts.push(
      `<g class="edge"><title>${escapeHtml(`${e.from} → ${e.to} via ${text}`)}</title>` +
        `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#475569" marker-end="url(#arrow)"/>` +
        `<text class="via" x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 4}" text-anchor="middle">${escapeHtml(clip(text, 30))}</text></g>`,
    );
  }
  for (const [n, p] of pos) {
    parts.push(
      `<g class="node${n === agent.agentId ? ' self' : ''}"><rect x="${p.x}" y="${p.y}" width="${boxW}" height="${boxH}" rx="6"/>` +
        `<text x="${p.x + boxW / 2}" y="${p.y + 22}" text-anchor="middle">${escapeHtml(n)}</text></g>`,
    );
  }
  return (
    `<svg class="graph" role="img" aria-label="${escapeHtml(`delegation graph of ${agent.agentId}`)}" ` +
    `viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`
  );
}

function table(headers: string[], rows: unknown[][], cls = ''): string {
  return (
    `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${headers.map(h => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map(r => `<tr>${r.map(c => `<td>${escapeHtml(c ?? '-')}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

function baselineOf(agent: AgentReport | undefined, records: readonly LedgerRecord[]): string {
  const checkpoint = [...records].reverse().find(r => r.decision === 'checkpoint' && r.checkpoint)?.checkpoint;
  const names = checkpoint?.policies.filter(p => p.standing === 'baseline').map(p => p.name);
  if (names?.length) return names.join(', ');
  const reaches = agent?.shadow.reaches.filter(r => r.source === 'baseline' && r.path.length === 1) ?? [];
  return reaches.length ? `${reaches.length} resource(s) its baseline statements reach in the assembly` : 'none known';
}

function agentSection(agentId: string, agent: AgentReport | undefined, input: HtmlReportInput): string {
  const ledger = input.ledger;
  const roles = ledger ? rolesOf(agentId, ledger) : [];
  const records = roles.flatMap(role => ledger!.get(role) ?? []);
  const rows = roles.flatMap(role => grantRows(role, ledger!.get(role) ?? []));
  const roleRecords = records.filter(r => !r.grant);
  const last = (row: GrantRow) => row.records[row.records.length - 1];
  const held = (row: GrantRow) => (row.segments.length && !row.segments[row.segments.length - 1].to ? 'held' : 'ended');
  const grantTable =
    rows.length === 0
      ? '<p class="empty">No grant in the ledger.</p>'
      : table(
          ['Grant', 'Role', 'First recorded', 'Last decision', 'Expires', 'Requested by', 'Ticket', 'Now'],
          rows.map(row => {
            const first = row.records[0];
            const withWho = [...row.records].reverse().find(r => r.requestedBy);
            return [
              row.grant,
              row.roleName,
              first.at,
              `${last(row).decision} at ${last(row).at}`,
              [...row.records].reverse().find(r => r.expiresAt)?.expiresAt,
              withWho?.requestedBy,
              withWho?.ticket,
              held(row),
            ];
          }),
          'grants',
        );
  const inventory = !agent
    ? '<p class="empty">Not in the governance report.</p>'
    : agent.inventory.length === 0
      ? '<p class="empty">Can write to no data store.</p>'
      : table(
          ['Store', 'Kind', 'Regime', 'Retention', 'Owner', 'Write actions', 'Through', 'Until'],
          agent.inventory.map(e => [
            e.known ? e.name : `${e.name} (not a known store)`,
            e.kind,
            e.regime,
            e.retention,
            e.owner,
            summarizeActions(e.writeActions),
            [...new Set(e.routes.map(r => r.path.join(' → ')))].join('; '),
            e.expiresAt ?? 'never',
          ]),
        );
  const recordTable =
    records.length === 0
      ? ''
      : `<details><summary>All ${records.length} ledger records</summary>${table(
          ['Role', 'Seq', 'At', 'Decision', 'Grant', 'Expires', 'Actor', 'Message'],
          records.map(r => [r.roleName, r.seq, r.at, r.decision, r.grant, r.expiresAt, r.actor, r.message]),
          'records',
        )}</details>`;
  const id = `agent-${agentId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const roleText = roles.join(', ') || (ledger ? 'none in the ledger' : 'ledger not read');
  return `<section class="agent" id="${escapeHtml(id)}" data-agent="${escapeHtml(agentId)}">
<h2>Agent <code>${escapeHtml(agentId)}</code></h2>
<p class="meta">Regimes: ${escapeHtml(agent?.regimes.join(', ') || 'none')} · Roles: ${escapeHtml(roleText)}</p>
<h3>Timeline: baseline, grants, renewals, drift, revocations</h3>
${ledger ? timelineSvg(agentId, rows, roleRecords, baselineOf(agent, records)) : '<p class="empty">The ledger was not read.</p>'}
${ledger ? grantTable : ''}
<h3>Delegation graph</h3>
${agent ? delegationSvg(agent) : '<p class="empty">Not in the governance report.</p>'}
<h3>Store inventory: data stores it can write to</h3>
${inventory}
${recordTable}
</section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#0f172a;background:#f8fafc}
header{background:#0f172a;color:#f8fafc;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}header p{margin:0;color:#cbd5e1}
main{padding:8px 24px 40px}nav{margin:12px 0}nav input{padding:4px 8px;font:inherit;width:260px}
.agent{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:4px 18px 16px;margin:16px 0;overflow-x:auto}
.agent.hidden{display:none}.meta{color:#475569}.empty{color:#64748b;font-style:italic}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f5f9}svg{max-width:100%;height:auto;display:block}
.bar.baseline{fill:#cbd5e1}.bar.grant{fill:#93c5fd}.bar.drift{fill:#fdba74}.bar.open{opacity:.75}
.lbl{font-size:12px;fill:#0f172a}.inbar{font-size:11px;fill:#1e293b}.lbl.strong{font-weight:600}
.axis{font-size:11px;fill:#475569}.tick{stroke:#e2e8f0}
.node rect{fill:#e0f2fe;stroke:#0369a1}.node.self rect{fill:#0369a1}.node.self text{fill:#fff}.node text{font-size:13px}
.via{font-size:11px;fill:#334155}.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}.legend i.held{border-radius:2px}
`;

// The only script: filters agents by id. Allowed by its hash in the page's CSP, so no injected script could run.
const SCRIPT =
  `document.getElementById('filter').addEventListener('input',function(e){var q=e.target.value.toLowerCase();` +
  `document.querySelectorAll('section.agent').forEach(function(s){` +
  `s.classList.toggle('hidden',s.dataset.agent.toLowerCase().indexOf(q)<0);});});`;

/** The page. Pure: the same input gives the same bytes. */
export function renderHtmlReport(input: HtmlReportInput): string {
  const reportAgents = new Map(input.report.agents.map(a => [a.agentId, a]));
  const ledgerAgents = input.ledger
    ? [...input.ledger.values()].flatMap(rs => rs.map(r => r.agentId)).filter((a): a is string => a !== undefined)
    : [];
  const ids = [...new Set([...reportAgents.keys(), ...ledgerAgents])].sort();
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:`;
  const legend = Object.entries(DECISION_COLOURS)
    .map(([d, c]) => `<span><i style="background:${c}"></i>${escapeHtml(d)}</span>`)
    .join('');
  const v = input.report.compliance.violations;
  const ledgerText = input.ledger ? (input.ledgerTable ?? 'read') : 'not read';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>permission-decay: each agent's access</title>
<style>${CSS}</style></head>
<body><header><h1>permission-decay: each agent's access</h1>
<p>${ids.length} agent(s) · ${v.length} compliance violation(s) · ledger ${escapeHtml(ledgerText)} ·
made ${escapeHtml(input.generatedAt)}</p></header>
<main><nav><label>Filter agents <input id="filter" type="search" placeholder="agent id"></label></nav>
<p class="legend">${legend}<span><i class="held" style="background:#93c5fd"></i>grant held</span>
<span><i class="held" style="background:#fdba74"></i>drift held</span></p>
${
  v.length
    ? `<h2>Compliance violations</h2>${table(
        ['Agent', 'Store', 'Store regime', 'Through', 'Detail'],
        v.map(f => [f.agentId, f.storeName, f.storeRegime, f.path.join(' → '), f.message]),
      )}`
    : ''
}
${ids.map(id => agentSection(id, reportAgents.get(id), input)).join('\n')}
</main><script>${SCRIPT}</script></body></html>
`;
}

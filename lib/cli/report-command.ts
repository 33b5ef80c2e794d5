/**
 * `permission-decay report`: the governance report that synth wrote into the
 * cloud assembly (permission shadow, compliance, store inventory), as
 * Markdown or JSON. Reads files only; needs no AWS credentials. With --html,
 * a self-contained page that adds each agent's ledger timeline (which reads
 * the ledger table).
 */
import * as fs from 'fs';
import * as path from 'path';
import { GovernanceReport, renderReportJson, renderReportMarkdown, REPORT_JSON_FILE, REPORT_VERSION } from '../analysis';
import { LEDGER_TABLE_ENV, LedgerRecord } from '../contract';
import { readLedgerState, readRecords } from '../sweeper/ledger';
import { UsageError } from './args';
import { CommandContext } from './context';
import { renderHtmlReport } from './html-report';

export const DEFAULT_ASSEMBLY_DIR = 'cdk.out';

export const DEFAULT_HTML_FILE = 'permission-decay-report.html';

export async function report(ctx: CommandContext): Promise<number> {
  const dir = ctx.flags.opt('assembly') ?? DEFAULT_ASSEMBLY_DIR;
  const html = ctx.flags.bool('html');
  if (!html && ctx.flags.opt('out') !== undefined) throw new UsageError('report --out FILE writes the page of --html: add --html');
  const full = readReport(dir);
  const agent = ctx.flags.opt('agent');
  const shown = agent === undefined ? full : onlyAgent(full, agent);
  if (html) return htmlReport(ctx, shown, agent);
  ctx.io.stdout(ctx.json ? renderReportJson(shown) : renderReportMarkdown(shown));
  return 0;
}

/** Writes the HTML page: the report plus every governed role's ledger records (read as history reads them). */
async function htmlReport(ctx: CommandContext, shown: GovernanceReport, agent: string | undefined): Promise<number> {
  const out = ctx.flags.opt('out') ?? DEFAULT_HTML_FILE;
  const table = ctx.flags.opt('ledger-table') ?? ctx.io.env[LEDGER_TABLE_ENV];
  let ledger: Map<string, LedgerRecord[]> | undefined;
  if (table) {
    ledger = new Map();
    const roles = [...(await readLedgerState(ctx.clients.ddb, table)).keys()].sort();
    for (const role of roles) {
      const records = await readRecords(ctx.clients.ddb, table, role);
      if (agent === undefined || records.some(r => r.agentId === agent)) ledger.set(role, records);
    }
  }
  const page = renderHtmlReport({ report: shown, ledger, ledgerTable: table, generatedAt: new Date().toISOString() });
  try {
    fs.writeFileSync(out, page);
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as Error).message}`, 'BAD_OUT');
  }
  const records = ledger ? [...ledger.values()].reduce((n, rs) => n + rs.length, 0) : 0;
  if (ctx.json) ctx.outJson({ file: out, agents: shown.agents.length, roles: ledger?.size ?? 0, records });
  else
    ctx.out(
      `Wrote ${out}: ${shown.agents.length} agent(s)` +
        (ledger
          ? `, ${records} ledger record(s) of ${ledger.size} role(s) from ${table}.`
          : `; the ledger was not read (name it with --ledger-table or ${LEDGER_TABLE_ENV}).`),
    );
  return 0;
}

/** The report in the assembly directory `dir`; a UsageError (exit 2) saying what to do when there is none. */
export function readReport(dir: string): GovernanceReport {
  const file = path.join(dir, REPORT_JSON_FILE);
  if (!fs.existsSync(file)) {
    const stages =
      fs.existsSync(dir) && fs.statSync(dir).isDirectory()
        ? fs
            .readdirSync(dir)
            .filter(d => d.startsWith('assembly-') && fs.existsSync(path.join(dir, d, REPORT_JSON_FILE)))
            .sort()
        : [];
    const hint =
      stages.length > 0
        ? `; stages have their own: pass --assembly ${stages.map(s => path.join(dir, s)).join(' or --assembly ')}`
        : ': run cdk synth first (an app with a GovernedAgentRole writes it), or pass --assembly <dir>';
    throw new UsageError(`no governance report at ${file}${hint}`, 'NO_REPORT');
  }
  let parsed: GovernanceReport;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as GovernanceReport;
  } catch (e) {
    throw new UsageError(`${file} is not JSON (${(e as Error).message}): run cdk synth again`, 'BAD_REPORT');
  }
  if (!parsed || parsed.version !== REPORT_VERSION || !Array.isArray(parsed.agents)) {
    throw new UsageError(
      `${file} is report version ${parsed?.version}; this CLI reads version ${REPORT_VERSION}: synth with the same permission-decay version`,
      'BAD_REPORT',
    );
  }
  return parsed;
}

/** The report cut down to one agent: its shadow, inventory, findings and problems. */
function onlyAgent(report: GovernanceReport, agentId: string): GovernanceReport {
  const agents = report.agents.filter(a => a.agentId === agentId);
  if (agents.length === 0) {
    throw new UsageError(
      `the report has no agent "${agentId}"; agents: ${report.agents.map(a => a.agentId).join(', ') || 'none'}`,
      'NO_SUCH_AGENT',
    );
  }
  return {
    ...report,
    agents,
    compliance: {
      violations: report.compliance.violations.filter(f => f.agentId === agentId),
      approved: report.compliance.approved.filter(f => f.agentId === agentId),
    },
    problems: report.problems.filter(p => p.agentId === agentId),
  };
}

import { buildGovernanceReport, renderReportJson, renderReportMarkdown, summarizeActions } from '../../lib/analysis';
import { agent, baseline, bucket, delegateTo, grant, logGroup } from './agent-models';

const JAN = '2027-01-01T00:00:00Z';
const FEB = '2027-02-01T00:00:00Z';

const stores = [
  bucket('Stack/Cards', 'cards', { regime: 'pci', owner: 'payments@example.com' }),
  logGroup('Stack/AgentLogs', 'agent-logs', { retention: '30 days' }),
];
const agents = [
  agent(
    'triage',
    [baseline(['logs:PutLogEvents'], ['arn:aws:logs:us-east-1:1:log-group:agent-logs:*'])],
    [delegateTo('payments', FEB)],
    ['general'],
  ),
  agent(
    'payments',
    [
      baseline(['s3:GetObject', 's3:PutObject'], ['arn:aws:s3:::cards/*']),
      grant('debug', ['s3:*', 's3:GetObjekt'], ['arn:aws:s3:::cards/*'], JAN),
    ],
    [],
    ['pci'],
  ),
];

describe('governance report', () => {
  const report = buildGovernanceReport(agents, stores);

  test('holds shadow, inventory, compliance and problems for every agent', () => {
    expect(report.agents.map(a => a.agentId)).toEqual(['payments', 'triage']);
    const triage = report.agents[1];
    expect(triage.delegations).toEqual([{ toAgentId: 'payments', via: 'to-payments', expiresAt: FEB }]);
    expect(triage.shadow.paths.map(p => p.agents)).toEqual([['triage'], ['triage', 'payments']]);
    expect(triage.inventory.map(e => [e.name, e.regime, e.retention, e.owner])).toEqual([
      ['agent-logs', 'unknown', '30 days', 'unknown'],
      ['cards', 'pci', 'unknown', 'payments@example.com'],
    ]);
    expect(report.compliance.violations.map(v => `${v.code} ${v.agentId} ${v.storeKey}`)).toEqual([
      'DELEGATED_REGIME_CROSSING triage Stack/Cards',
      'DELEGATED_REGIME_CROSSING triage Stack/Cards',
    ]);
    expect(report.agents[0].shadow.unknownActions.map(u => u.action)).toEqual(['s3:GetObjekt']);
  });

  test('JSON is deterministic: same bytes for the same model in any order, keys sorted, no timestamps', () => {
    const json = renderReportJson(report);
    expect(renderReportJson(buildGovernanceReport([...agents].reverse(), [...stores].reverse()))).toBe(json);
    const parsed = JSON.parse(json);
    expect(Object.keys(parsed)).toEqual(['agents', 'compliance', 'problems', 'version']);
    expect(parsed.version).toBe(1);
    expect(json.endsWith('}\n')).toBe(true);
    // The only instants in the report are the model's expiries.
    const instants = new Set(json.match(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g));
    expect([...instants].sort()).toEqual([JAN, FEB]);
  });

  test('Markdown has the tables a person reads', () => {
    const md = renderReportMarkdown(report);
    expect(md).toContain('# Permission-decay governance report');
    expect(md).toContain('2 agent(s), 2 compliance violation(s), 0 approved regime crossing(s).');
    expect(md).toContain('## Compliance');
    expect(md).toContain('| Agent | Store | Store regime | Agent regimes | Through | Status | Detail |');
    expect(md).toContain('## Agent `triage`');
    expect(md).toContain('- Delegates to: payments via to-payments until 2027-02-01T00:00:00Z');
    expect(md).toContain('| triage → payments | arn:aws:s3:::cards/* |');
    expect(md).toContain('| cards | s3-bucket | pci | unknown | payments@example.com |');
    expect(md).toContain('### Actions the IAM catalogue does not know');
    expect(md).toBe(renderReportMarkdown(buildGovernanceReport([...agents].reverse(), stores)));
    // Pipes in cells are escaped so tables stay tables.
    const piped = renderReportMarkdown(buildGovernanceReport([agent('a|b', [baseline(['s3:GetObject'])])], []));
    expect(piped).toContain('## Agent `a|b`');
    expect(piped).toContain('| a\\|b | * |');
  });

  test.each([
    [['s3:GetObject'], 's3:GetObject'],
    [['a:1', 'a:2', 'a:3', 'a:4', 'a:5', 'a:6', 'a:7'], 'a:1, a:2, a:3, a:4, a:5, a:6 and 1 more'],
    [['a:1', 'a:2', 'a:3', 'a:4', 'b:1', 'b:2', 'c:1'], '7 actions: a (4), b (2), c (1)'],
  ])('summarizeActions(%j)', (actions, expected) => {
    expect(summarizeActions(actions)).toBe(expected);
  });
});

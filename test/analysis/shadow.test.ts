import {
  accessUntil,
  computeShadow,
  reachesFor,
  ActionExpander,
  AgentShadow,
  ShadowAnalysis,
  inMemoryActionCatalogue,
} from '../../lib/analysis';
import { agent, baseline, delegateTo, deny, grant } from './agent-models';

const JAN = '2027-01-01T00:00:00Z';
const FEB = '2027-02-01T00:00:00Z';
const MAR = '2027-03-01T00:00:00Z';

function shadowOf(analysis: ShadowAnalysis, id: string): AgentShadow {
  const s = analysis.agents.find(a => a.agentId === id);
  if (!s) throw new Error(`no shadow for ${id}`);
  return s;
}

describe('computeShadow: direct permissions', () => {
  test('wildcards are expanded and each reach keeps its statement', () => {
    const analysis = computeShadow([
      agent('a', [baseline(['s3:GetObj*'], ['arn:aws:s3:::docs/*']), grant('write-docs', ['s3:PutObject'], ['arn:aws:s3:::docs/*'], JAN)]),
    ]);
    const a = shadowOf(analysis, 'a');
    expect(a.paths).toEqual([{ agents: ['a'], via: [] }]);
    expect(reachesFor(a, 's3:GetObject', 'arn:aws:s3:::docs/x')).toEqual([expect.objectContaining({ source: 'baseline', path: ['a'] })]);
    expect(reachesFor(a, 's3:GetObject')[0].expiresAt).toBeUndefined();
    expect(reachesFor(a, 's3:PutObject')[0]).toEqual(expect.objectContaining({ source: 'grant', grantName: 'write-docs', expiresAt: JAN }));
    expect(reachesFor(a, 's3:DeleteObject')).toEqual([]);
  });

  test('statements with the same resource and origin merge their actions', () => {
    const a = shadowOf(
      computeShadow([agent('a', [baseline(['s3:GetObject'], ['arn:aws:s3:::b/*']), baseline(['s3:PutObject'], ['arn:aws:s3:::b/*'])])]),
      'a',
    );
    expect(a.reaches).toHaveLength(1);
    expect(a.reaches[0].actions).toEqual(['s3:GetObject', 's3:PutObject']);
  });

  test.each([
    ['an unconditional Deny on the same resource removes the actions', deny(['s3:PutObject'], ['arn:aws:s3:::b/*']), false],
    ['a Deny on a wider resource removes them', deny(['s3:Put*'], ['*']), false],
    ['a Deny on a narrower resource does not', deny(['s3:PutObject'], ['arn:aws:s3:::b/secret/*']), true],
    ['a conditional Deny does not', deny(['s3:PutObject'], ['*'], { conditional: true }), true],
    ['a Deny with NotResource does not', deny(['s3:PutObject'], [], { notResources: [{ text: 'arn:aws:s3:::other' }] }), true],
  ])('%s', (_, denyStatement, kept) => {
    const a = shadowOf(computeShadow([agent('a', [baseline(['s3:GetObject', 's3:PutObject'], ['arn:aws:s3:::b/*']), denyStatement])]), 'a');
    expect(reachesFor(a, 's3:PutObject').length > 0).toBe(kept);
    expect(reachesFor(a, 's3:GetObject')).toHaveLength(1);
  });

  test('unknown actions are reported per agent and statement, and left out of the shadow', () => {
    const a = shadowOf(computeShadow([agent('a', [grant('g', ['s3:GetObjekt', 's3:GetObject'], ['*'], JAN)])]), 'a');
    expect(a.unknownActions).toEqual([{ agentId: 'a', action: 's3:GetObjekt', source: 'grant', grantName: 'g' }]);
    expect(a.reaches[0].actions).toEqual(['s3:GetObject']);
  });

  test('a malformed expiry is an error, never "no expiry"', () => {
    expect(() => computeShadow([agent('a', [grant('g', ['s3:GetObject'], ['*'], '2027-01-01')])])).toThrow(/not an instant/);
    expect(() => computeShadow([agent('a', [], [delegateTo('b', 'soon')]), agent('b', [])])).toThrow(/not an instant/);
  });

  test('two agents with one id are refused', () => {
    expect(() => computeShadow([agent('a', []), agent('a', [])])).toThrow(/unique/);
  });
});

describe('computeShadow: delegation chains', () => {
  // A -(until MAR)-> B -(until FEB)-> C; C holds a baseline and a grant until JAN.
  const chain = [
    agent('a', [baseline(['s3:GetObject'], ['arn:aws:s3:::a/*'])], [delegateTo('b', MAR)]),
    agent('b', [baseline(['dynamodb:GetItem'], ['arn:aws:dynamodb:us-east-1:1:table/b'])], [delegateTo('c', FEB)]),
    agent('c', [
      baseline(['logs:PutLogEvents'], ['arn:aws:logs:us-east-1:1:log-group:c:*']),
      grant('c-write', ['s3:PutObject'], ['arn:aws:s3:::c/*'], JAN),
    ]),
  ];

  test('three-agent chain: A reaches C with the earliest expiry along the path', () => {
    const analysis = computeShadow(chain);
    expect(analysis.problems).toEqual([]);
    const a = shadowOf(analysis, 'a');
    expect(a.paths).toEqual([
      { agents: ['a'], via: [] },
      { agents: ['a', 'b'], via: ['to-b'], expiresAt: MAR },
      { agents: ['a', 'b', 'c'], via: ['to-b', 'to-c'], expiresAt: FEB },
    ]);
    // C's baseline through A→B→C lives as long as the shortest delegation (FEB).
    expect(reachesFor(a, 'logs:PutLogEvents')).toEqual([
      expect.objectContaining({ path: ['a', 'b', 'c'], source: 'baseline', expiresAt: FEB }),
    ]);
    // C's grant expires before the delegations: JAN.
    expect(reachesFor(a, 's3:PutObject')).toEqual([
      expect.objectContaining({ path: ['a', 'b', 'c'], grantName: 'c-write', expiresAt: JAN }),
    ]);
    expect(reachesFor(a, 'dynamodb:GetItem')).toEqual([expect.objectContaining({ path: ['a', 'b'], expiresAt: MAR })]);
    expect(reachesFor(a, 's3:GetObject')).toEqual([expect.objectContaining({ path: ['a'] })]);
    expect(reachesFor(a, 's3:GetObject')[0].expiresAt).toBeUndefined();
    // B reaches C but not A; C reaches only itself.
    expect(shadowOf(analysis, 'b').paths.map(p => p.agents)).toEqual([['b'], ['b', 'c']]);
    expect(reachesFor(shadowOf(analysis, 'b'), 's3:GetObject')).toEqual([]);
    expect(shadowOf(analysis, 'c').paths).toHaveLength(1);
  });

  test('a cycle A→B→A terminates with one path each way', () => {
    const analysis = computeShadow([
      agent('a', [baseline(['s3:GetObject'])], [delegateTo('b', JAN)]),
      agent('b', [baseline(['sqs:SendMessage'])], [delegateTo('a')]),
    ]);
    expect(shadowOf(analysis, 'a').paths.map(p => p.agents)).toEqual([['a'], ['a', 'b']]);
    expect(shadowOf(analysis, 'b').paths.map(p => p.agents)).toEqual([['b'], ['b', 'a']]);
    expect(accessUntil(shadowOf(analysis, 'a'), 'sqs:SendMessage')).toBe(JAN);
    expect(accessUntil(shadowOf(analysis, 'b'), 's3:GetObject')).toBeUndefined();
    expect(shadowOf(analysis, 'a').reaches).toHaveLength(2);
  });

  test('a diamond keeps both paths, and access lasts as long as the longer-lived one', () => {
    const analysis = computeShadow([
      agent('a', [], [delegateTo('b', JAN), delegateTo('c', MAR)]),
      agent('b', [], [delegateTo('d')]),
      agent('c', [], [delegateTo('d', FEB)]),
      agent('d', [baseline(['sns:Publish'])]),
    ]);
    const a = shadowOf(analysis, 'a');
    expect(reachesFor(a, 'sns:Publish').map(r => [r.path.join('>'), r.expiresAt])).toEqual([
      ['a>b>d', JAN],
      ['a>c>d', FEB],
    ]);
    expect(accessUntil(a, 'sns:Publish')).toBe(FEB);
    expect(accessUntil(a, 'sns:Subscribe')).toBeNull();
  });

  test('a delegation to an agent outside the analysis is a problem, not a crash', () => {
    const analysis = computeShadow([agent('a', [baseline(['s3:GetObject'])], [delegateTo('ghost')])]);
    expect(analysis.problems).toEqual([expect.objectContaining({ code: 'UNKNOWN_DELEGATE', agentId: 'a' })]);
    expect(analysis.problems[0].message).toMatch(/ghost/);
    expect(shadowOf(analysis, 'a').paths).toHaveLength(1);
  });

  test('a dense graph is cut at maxPathsPerAgent and marked truncated', () => {
    // Complete graph on 8 agents: thousands of simple paths from each.
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const agents = ids.map(id =>
      agent(
        id,
        [baseline(['s3:GetObject'])],
        ids.filter(o => o !== id).map(o => delegateTo(o)),
      ),
    );
    const analysis = computeShadow(agents, { maxPathsPerAgent: 50 });
    expect(analysis.agents.every(s => s.truncated && s.paths.length === 50)).toBe(true);
    expect(analysis.problems.filter(p => p.code === 'SHADOW_TRUNCATED')).toHaveLength(8);
  });

  test('the output does not depend on the order agents and delegations are given in', () => {
    const reversed = [...chain]
      .reverse()
      .map(a => ({ ...a, statements: [...a.statements].reverse(), delegations: [...a.delegations].reverse() }));
    expect(computeShadow(reversed)).toEqual(computeShadow(chain));
  });

  test('each agent is expanded once however many paths end at it, and each pattern once overall', () => {
    const catalogue = inMemoryActionCatalogue({
      svc: { get: { name: 'Get', accessLevel: 'Read' }, put: { name: 'Put', accessLevel: 'Write' } },
    });
    let serviceLoads = 0;
    const counting = {
      services: () => catalogue.services(),
      actionsOf: (s: string) => {
        serviceLoads++;
        return catalogue.actionsOf(s);
      },
    };
    let expansions = 0;
    class CountingExpander extends ActionExpander {
      expand(actions: readonly string[] | undefined, notActions?: readonly string[]) {
        expansions++;
        return super.expand(actions, notActions);
      }
    }
    // A chain of 40 agents: 820 paths in all, 40 statements.
    const ids = Array.from({ length: 40 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);
    const agents = ids.map((id, i) =>
      agent(id, [baseline(['svc:*'], [`arn:svc:${i}`])], i + 1 < ids.length ? [delegateTo(ids[i + 1])] : []),
    );
    const analysis = computeShadow(agents, { expander: new CountingExpander(counting) });
    expect(analysis.agents.reduce((n, s) => n + s.paths.length, 0)).toBe(820);
    expect(analysis.agents[0].reaches).toHaveLength(40);
    expect(expansions).toBe(40);
    expect(serviceLoads).toBe(1);
  });
});

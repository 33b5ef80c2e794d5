import * as fc from 'fast-check';
import { ActionExpander, AgentModel, AnalysedStatement, computeShadow, earlierExpiry, inMemoryActionCatalogue } from '../../lib/analysis';

// A small catalogue keeps each run fast; the real one is covered by the example tests.
const catalogue = inMemoryActionCatalogue({
  svc: {
    getthing: { name: 'GetThing', accessLevel: 'Read' },
    getother: { name: 'GetOther', accessLevel: 'Read' },
    putthing: { name: 'PutThing', accessLevel: 'Write' },
  },
  db: { putitem: { name: 'PutItem', accessLevel: 'Write' }, getitem: { name: 'GetItem', accessLevel: 'Read' } },
});
const expander = new ActionExpander(catalogue);

const expiry = fc.option(fc.constantFrom('2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z', '2027-03-01T00:00:00Z'), { nil: undefined });
const ACTIONS = ['svc:GetThing', 'svc:Get*', 'svc:PutThing', 'db:*', 'db:GetItem', 'svc:Nope'];
const RESOURCES = ['*', 'arn:x:1', 'arn:x:2', 'arn:y:*'];
const allow: fc.Arbitrary<AnalysedStatement> = fc
  .record({
    actions: fc.subarray(ACTIONS, { minLength: 1 }),
    resources: fc.subarray(RESOURCES, { minLength: 1 }),
    expiresAt: expiry,
  })
  .map(({ actions, resources, expiresAt }) => ({
    effect: 'Allow' as const,
    actions,
    resources: resources.map(text => ({ text })),
    source: expiresAt ? ('grant' as const) : ('baseline' as const),
    ...(expiresAt ? { grantName: `g-${expiresAt.slice(5, 7)}`, expiresAt } : {}),
  }));
/** Deny statements: unconditional, conditional (not subtracted), or with NotResource (not subtracted). */
const deny: fc.Arbitrary<AnalysedStatement> = fc
  .record({
    actions: fc.subarray(ACTIONS, { minLength: 1 }),
    resources: fc.subarray(RESOURCES, { minLength: 1 }),
    conditional: fc.boolean(),
    notResource: fc.boolean(),
  })
  .map(({ actions, resources, conditional, notResource }) => ({
    effect: 'Deny' as const,
    actions,
    resources: notResource ? [] : resources.map(text => ({ text })),
    ...(notResource ? { notResources: resources.map(text => ({ text })) } : {}),
    ...(conditional ? { conditional: true } : {}),
    source: 'baseline' as const,
  }));
const statement: fc.Arbitrary<AnalysedStatement> = fc.oneof({ weight: 3, arbitrary: allow }, { weight: 1, arbitrary: deny });
/** A Deny the shadow must subtract: unconditional, with Resource (not NotResource). */
const surelyDenies = (s: AnalysedStatement) => s.effect === 'Deny' && !s.conditional && !s.notResources;

/** 1..7 agents, each delegating to arbitrary others (self-loops, cycles and parallel edges included). */
const agentGraph: fc.Arbitrary<AgentModel[]> = fc.integer({ min: 1, max: 7 }).chain(n =>
  fc
    .array(
      fc.record({
        statements: fc.array(statement, { maxLength: 3 }),
        delegations: fc.array(fc.record({ to: fc.integer({ min: 0, max: n - 1 }), expiresAt: expiry }), { maxLength: 4 }),
      }),
      { minLength: n, maxLength: n },
    )
    .map(specs =>
      specs.map((s, i) => ({
        agentId: `agent-${i}`,
        regimes: [],
        statements: s.statements,
        delegations: s.delegations.map((d, j) => ({
          toAgentId: `agent-${d.to}`,
          via: `d${j}`,
          ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
        })),
      })),
    ),
);

describe('computeShadow properties', () => {
  test('terminates on any delegation graph, with simple paths that start at the agent', () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const analysis = computeShadow(agents, { expander, maxPathsPerAgent: 500 });
        expect(analysis.agents).toHaveLength(agents.length);
        for (const s of analysis.agents) {
          expect(s.paths.length).toBeLessThanOrEqual(500);
          expect(s.paths[0]).toEqual({ agents: [s.agentId], via: [] });
          for (const p of s.paths) {
            expect(p.agents[0]).toBe(s.agentId);
            expect(new Set(p.agents).size).toBe(p.agents.length);
            expect(p.via).toHaveLength(p.agents.length - 1);
          }
          const keys = s.paths.map(p => `${p.agents.join('>')}|${p.via.join('>')}`);
          expect(new Set(keys).size).toBe(keys.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("an agent's shadow always contains its direct permissions, with their own expiry", () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const analysis = computeShadow(agents, { expander });
        for (const a of agents) {
          const own = analysis.agents.find(s => s.agentId === a.agentId)!.reaches.filter(r => r.path.length === 1);
          // Actions a Deny of the agent names are left to the Deny properties below.
          const denied = new Set(a.statements.filter(st => st.effect === 'Deny').flatMap(st => expander.expand(st.actions).actions));
          for (const st of a.statements) {
            if (st.effect === 'Deny') continue;
            for (const action of expander.expand(st.actions).actions) {
              if (denied.has(action)) continue;
              for (const resource of st.resources) {
                expect(own.some(r => r.resource.text === resource.text && r.actions.includes(action) && r.expiresAt === st.expiresAt)).toBe(
                  true,
                );
              }
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test('each reach expires no later than its statement and every delegation on its path', () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const analysis = computeShadow(agents, { expander });
        const byId = new Map(agents.map(a => [a.agentId, a]));
        for (const s of analysis.agents) {
          for (const p of s.paths) {
            let expected: string | undefined;
            p.via.forEach((via, i) => {
              const d = byId.get(p.agents[i])!.delegations.find(x => x.via === via && x.toAgentId === p.agents[i + 1])!;
              expected = earlierExpiry(expected, d.expiresAt);
            });
            if (p.expiresAt !== expected) throw new Error(`path ${p.agents.join('>')} expires ${p.expiresAt}, expected ${expected}`);
          }
          const pathByKey = new Map(s.paths.map(p => [`${p.agents.join('>')}|${p.via.join('>')}`, p]));
          for (const r of s.reaches) {
            const path = pathByKey.get(`${r.path.join('>')}|${r.via.join('>')}`)!;
            expect(path).toBeDefined();
            if (path.expiresAt !== undefined && !(r.expiresAt! <= path.expiresAt)) {
              throw new Error(
                `reach on ${r.resource.text} via ${r.path.join('>')} expires ${r.expiresAt}, after its path (${path.expiresAt})`,
              );
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test("an unconditional Deny on * removes its actions from every reach of the agent's own statements", () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const analysis = computeShadow(agents, { expander });
        for (const a of agents) {
          const deniedEverywhere = new Set(
            a.statements
              .filter(st => surelyDenies(st) && st.resources.some(r => r.text === '*'))
              .flatMap(st => expander.expand(st.actions).actions),
          );
          const own = analysis.agents.find(s => s.agentId === a.agentId)!.reaches.filter(r => r.path.length === 1);
          for (const r of own)
            for (const action of r.actions) expect([a.agentId, action, deniedEverywhere.has(action)]).toEqual([a.agentId, action, false]);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('a conditional Deny or a Deny with NotResource subtracts nothing (the shadow errs towards showing access)', () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const withoutUnsure = agents.map(a => ({ ...a, statements: a.statements.filter(st => st.effect === 'Allow' || surelyDenies(st)) }));
        expect(computeShadow(agents, { expander }).agents.map(s => s.reaches)).toEqual(
          computeShadow(withoutUnsure, { expander }).agents.map(s => s.reaches),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('a Deny never adds access: removing every Deny leaves each reach with at least its actions', () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const allowsOnly = agents.map(a => ({ ...a, statements: a.statements.filter(st => st.effect === 'Allow') }));
        const withDenies = computeShadow(agents, { expander });
        const without = computeShadow(allowsOnly, { expander });
        withDenies.agents.forEach((s, i) => {
          for (const r of s.reaches) {
            const key = (x: typeof r) =>
              `${x.path.join('>')}|${x.via.join('>')}|${x.resource.text}|${x.source}|${x.grantName ?? ''}|${x.expiresAt ?? ''}`;
            const match = without.agents[i].reaches.find(w => key(w) === key(r));
            expect(match).not.toBeUndefined();
            for (const action of r.actions) expect(match!.actions).toContain(action);
          }
        });
      }),
      { numRuns: 100 },
    );
  });

  test('the result does not depend on input order', () => {
    fc.assert(
      fc.property(agentGraph, agents => {
        const shuffled = [...agents]
          .reverse()
          .map(a => ({ ...a, statements: [...a.statements].reverse(), delegations: [...a.delegations].reverse() }));
        expect(computeShadow(shuffled, { expander })).toEqual(computeShadow(agents, { expander }));
      }),
      { numRuns: 100 },
    );
  });
});

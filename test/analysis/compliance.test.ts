import { checkCompliance, ComplianceFinding } from '../../lib/analysis';
import { agent, baseline, bucket, delegateTo, grant, logGroup } from './agent-models';

const JAN = '2027-01-01T00:00:00Z';
const cards = bucket('Stack/Cards', 'cards', { regime: 'pci' });
const notes = bucket('Stack/Notes', 'notes', { regime: 'general' });
const scratch = bucket('Stack/Scratch', 'scratch');
const audit = logGroup('Stack/Audit', 'audit', { regime: 'PCI' });
const stores = [cards, notes, scratch, audit];

function codes(findings: readonly ComplianceFinding[]): string[] {
  return findings.map(f => `${f.code} ${f.agentId} ${f.storeKey}`);
}

describe("checkCompliance: the agent's own statements", () => {
  test.each([
    ['a baseline on its own regime', ['general'], [baseline(['s3:GetObject'], ['arn:aws:s3:::notes/*'])], []],
    ['a store without a regime', [], [baseline(['s3:PutObject'], ['arn:aws:s3:::scratch/*'])], []],
    ['a baseline reaching pci', ['general'], [baseline(['s3:GetObject'], ['arn:aws:s3:::cards/*'])], ['REGIME_CROSSING a Stack/Cards']],
    [
      'a grant reaching pci by a wildcard ARN',
      ['general'],
      [grant('g', ['s3:GetObject'], ['arn:aws:s3:::c*'], JAN)],
      ['REGIME_CROSSING a Stack/Cards'],
    ],
    [
      "Resource * reaches every store of the action's service",
      ['general'],
      [baseline(['s3:ListBucket'])],
      ['REGIME_CROSSING a Stack/Cards'],
    ],
    ['an account-level action on * reaches no store', ['general'], [baseline(['s3:ListAllMyBuckets'])], []],
    ['Resource * with another service reaches no bucket', ['general'], [baseline(['dynamodb:GetItem'])], []],
    ['regimes compare without case', ['Pci'], [baseline(['logs:PutLogEvents'], ['arn:aws:logs:us-east-1:1:log-group:audit:*'])], []],
    ['an agent without regimes may touch no regulated store', [], [baseline(['logs:PutLogEvents'])], ['REGIME_CROSSING a Stack/Audit']],
    [
      'an agent with pci only may not touch general',
      ['pci'],
      [baseline(['s3:GetObject'], ['arn:aws:s3:::*'])],
      ['REGIME_CROSSING a Stack/Notes'],
    ],
  ])('%s', (_, regimes, statements, expected) => {
    const result = checkCompliance([agent('a', statements, [], regimes)], stores);
    expect(codes(result.violations)).toEqual(expected);
  });

  test('the message names the agent, the statement, the store, both regimes and the fix', () => {
    const [v] = checkCompliance(
      [agent('a', [grant('read-cards', ['s3:GetObject'], ['arn:aws:s3:::cards/*'], JAN)], [], ['general'])],
      stores,
    ).violations;
    expect(v).toEqual(
      expect.objectContaining({
        agentId: 'a',
        storeKey: 'Stack/Cards',
        storeRegime: 'pci',
        agentRegimes: ['general'],
        source: 'grant',
        grantName: 'read-cards',
        approved: false,
      }),
    );
    expect(v.message).toContain('agent "a"');
    expect(v.message).toContain('"general"');
    expect(v.message).toContain('grant "read-cards"');
    expect(v.message).toContain('store "cards"');
    expect(v.message).toContain('regime "pci"');
    expect(v.message).toMatch(/Fix: .*approve "pci" on the grant/);
  });

  test('a grant approved for the regime is reported as approved, not as a violation', () => {
    const result = checkCompliance(
      [agent('a', [grant('read-cards', ['s3:GetObject'], ['arn:aws:s3:::cards/*'], JAN, { approvedRegimes: ['PCI'] })], [], ['general'])],
      stores,
    );
    expect(result.violations).toEqual([]);
    expect(result.approved).toEqual([expect.objectContaining({ agentId: 'a', storeKey: 'Stack/Cards', approved: true })]);
    expect(result.approved[0].message).toMatch(/Approved for "pci" on the grant/);
  });

  test('an approval for another regime does not count', () => {
    const result = checkCompliance(
      [agent('a', [grant('read-cards', ['s3:GetObject'], ['arn:aws:s3:::cards/*'], JAN, { approvedRegimes: ['hipaa'] })], [], ['general'])],
      stores,
    );
    expect(codes(result.violations)).toEqual(['REGIME_CROSSING a Stack/Cards']);
  });

  test('a resource linked by storeKey reaches its store even as an unresolved token', () => {
    const result = checkCompliance(
      [
        agent(
          'a',
          [
            {
              effect: 'Allow',
              actions: ['s3:GetObject'],
              resources: [{ text: '${Token[Cards.Arn]}/*', storeKey: 'Stack/Cards' }],
              source: 'baseline',
            },
          ],
          [],
          ['general'],
        ),
      ],
      stores,
    );
    expect(codes(result.violations)).toEqual(['REGIME_CROSSING a Stack/Cards']);
  });
});

describe('checkCompliance: through delegations', () => {
  const pciAgent = agent('payments', [baseline(['s3:GetObject'], ['arn:aws:s3:::cards/*'])], [], ['pci']);

  test('reaching a pci store through a delegation is a violation naming the delegation and the path', () => {
    const result = checkCompliance(
      [
        agent('triage', [], [delegateTo('router')], ['general']),
        agent('router', [], [delegateTo('payments')], ['general', 'pci']),
        pciAgent,
      ],
      stores,
    );
    expect(codes(result.violations)).toEqual(['DELEGATED_REGIME_CROSSING triage Stack/Cards']);
    const [v] = result.violations;
    expect(v.delegation).toBe('to-router');
    expect(v.path).toEqual(['triage', 'router', 'payments']);
    expect(v.message).toContain('through delegation "to-router"');
    expect(v.message).toContain('triage -> router -> payments');
    expect(v.message).toMatch(/Fix: .*remove the delegation/);
  });

  test('the delegation can carry the approval', () => {
    const result = checkCompliance(
      [agent('triage', [], [delegateTo('payments', JAN, { approvedRegimes: ['pci'] })], ['general']), pciAgent],
      stores,
    );
    expect(result.violations).toEqual([]);
    expect(codes(result.approved)).toEqual(['DELEGATED_REGIME_CROSSING triage Stack/Cards']);
  });

  test('many paths to one store give one finding per delegation, with the shortest path', () => {
    const result = checkCompliance(
      [agent('a', [], [delegateTo('b'), delegateTo('payments')], ['general']), agent('b', [], [delegateTo('payments')], ['pci']), pciAgent],
      stores,
    );
    expect(result.violations.map(v => [v.delegation, v.path.join('>')])).toEqual([
      ['to-b', 'a>b>payments'],
      ['to-payments', 'a>payments'],
    ]);
  });
});

/**
 * Who can do what: the example app's synthesized policies (two governed agents
 * and a PermissionSweeper) evaluated with an IAM policy simulator
 * (@cloud-copilot/iam-simulate via test/support/simulate.ts).
 *
 * What IAM cannot express, and how the code compensates, is stated at the
 * tests that show it (PutRolePolicy's content; PutItem overwriting a record).
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../bin/example-app';
import {
  canonicalPolicyJson,
  EXPIRY_CONDITION_KEY,
  EXPIRY_CONDITION_OPERATOR,
  grantTagKey,
  MANAGED_BY_VALUE,
  statementsOf,
  TAG_MANAGED_BY,
} from '../../lib/contract';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { arnOf, rolePolicies, simulate, SIM_ACCOUNT, SIM_REGION } from '../support/simulate';
import { applyInMemory, decide1, grantDoc, OPTIONS, role, spec } from './decide-harness';

ensureSweeperHandlerBundle();
const example = buildExampleApp(new App());
const template = Template.fromStack(example.stack).toJSON();
const logicalId = (c: { node: { defaultChild?: unknown } }) => example.stack.getLogicalId(c.node.defaultChild as any);
const supportId = logicalId(example.supportBot.role);
const opsId = logicalId(example.opsBot.role);
const sweeperId = logicalId(example.sweeper.role);
const support = rolePolicies(template, supportId);
const ops = rolePolicies(template, opsId);
const sweeper = rolePolicies(template, sweeperId);
const roleArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/${name}`;
const governedRoleArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/${name}`;
const governed = { [TAG_MANAGED_BY]: MANAGED_BY_VALUE };
const ledgerId =
  Object.entries(template.Resources as Record<string, { Type: string }>).find(
    ([, r]) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r).includes('Ledger'),
  )?.[0] ?? Object.keys(template.Resources).find(k => k.includes('Ledger') && template.Resources[k].Type === 'AWS::DynamoDB::Table')!;
const ledgerName = (() => {
  const n = template.Resources[ledgerId].Properties?.TableName;
  return typeof n === 'string' ? n : ledgerId;
})();
// The ledger as the agents' boundary sees it (its real name, which starts with the ledger prefix)...
const ledgerArn = `arn:aws:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/${ledgerName}`;
// ...and as the sweeper's policies name it (GetAtt Arn, resolved by the simulate helper).
const sweeperLedgerArn = arnOf(template, ledgerId);
const NOW = { 'aws:CurrentTime': '2026-12-15T00:00:00Z' };
const everything = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

const ROLE_CHANGES = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
];
const LEDGER_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
];

describe('an agent', () => {
  const agents = [
    ['support', support],
    ['ops', ops],
  ] as const;

  test.each(ROLE_CHANGES)(
    'cannot %s on its own role or another governed role (its policies; and even with Allow *:*, the boundary)',
    async action => {
      for (const [, a] of agents) {
        for (const target of [supportId, opsId, 'some-other-governed-role']) {
          const request = { action, resource: roleArn(target), resourceTags: governed, context: NOW };
          expect(await simulate({ ...a, ...request })).not.toBe('Allowed');
          // A grant that let the agent do anything (e.g. one the sweeper wrote by mistake) is still stopped by the boundary.
          expect(await simulate({ identityPolicies: everything, boundaryPolicies: a.boundaryPolicies, ...request })).toBe(
            'ExplicitlyDenied',
          );
        }
      }
    },
  );

  test.each(LEDGER_WRITES)('cannot %s on the ledger', async action => {
    for (const [, a] of agents) {
      for (const resource of [ledgerArn, `arn:aws:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/permission-decay-ledger-any`]) {
        expect(await simulate({ ...a, action, resource, context: NOW })).not.toBe('Allowed');
        expect(await simulate({ identityPolicies: everything, boundaryPolicies: a.boundaryPolicies, action, resource, context: NOW })).toBe(
          'ExplicitlyDenied',
        );
      }
    }
  });

  test('cannot assume a role outside what it was given', async () => {
    const outsiders = [
      roleArn('Admin'),
      roleArn(sweeperId),
      roleArn('some-other-governed-role'),
      'arn:aws:iam::999999999999:role/Anything',
    ];
    for (const [, a] of agents) {
      for (const resource of outsiders) {
        expect(await simulate({ ...a, action: 'sts:AssumeRole', resource, context: NOW })).not.toBe('Allowed');
      }
    }
    // The support bot was given no delegation at all.
    expect(await simulate({ ...support, action: 'sts:AssumeRole', resource: roleArn(opsId), context: NOW })).not.toBe('Allowed');
  });

  test('cannot write its own approved spec or change its sweeper', async () => {
    const spec = `arn:aws:ssm:${SIM_REGION}:${SIM_ACCOUNT}:parameter/permission-decay/agents/support-bot`;
    for (const [, a] of agents) {
      for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter']) {
        expect(
          await simulate({ identityPolicies: everything, boundaryPolicies: a.boundaryPolicies, action, resource: spec, context: NOW }),
        ).toBe('ExplicitlyDenied');
      }
    }
  });
});

describe("the sweeper's role", () => {
  test('changes grants on governed-path roles only, whatever tags another role carries', async () => {
    for (const action of ['iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy']) {
      expect(await simulate({ ...sweeper, action, resource: governedRoleArn(supportId), resourceTags: governed })).toBe('Allowed');
      expect(await simulate({ ...sweeper, action, resource: roleArn('Admin'), resourceTags: {} })).not.toBe('Allowed');
      expect(await simulate({ ...sweeper, action, resource: roleArn('Admin'), resourceTags: governed })).not.toBe('Allowed');
    }
  });

  test('tags only grant expiry tags and the governance tags it puts back, and never removes a governance tag', async () => {
    const tag = (keys: string[]) => ({
      ...sweeper,
      action: 'iam:TagRole',
      resource: governedRoleArn(supportId),
      resourceTags: governed,
      context: { 'aws:TagKeys': keys },
    });
    expect(await simulate(tag([grantTagKey('g1')]))).toBe('Allowed');
    expect(await simulate(tag([grantTagKey('g1'), 'cost-center']))).not.toBe('Allowed');
    expect(
      await simulate({
        ...sweeper,
        action: 'iam:UntagRole',
        resource: governedRoleArn(supportId),
        resourceTags: governed,
        context: { 'aws:TagKeys': [TAG_MANAGED_BY] },
      }),
    ).toBe('ExplicitlyDenied');
  });

  test.each([
    'iam:AttachRolePolicy',
    'iam:CreateRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:PassRole',
  ])('can never %s (explicit deny), on any role', async action => {
    for (const target of [supportId, 'Admin', sweeperId]) {
      expect(await simulate({ ...sweeper, action, resource: roleArn(target), resourceTags: governed })).toBe('ExplicitlyDenied');
    }
  });

  test('cannot change its own role, even when it is tagged as governed', async () => {
    // Its own role as IAM names it: under the sweeper path (role/permission-decay/sweeper/...), read from the template.
    const ownArn = arnOf(template, sweeperId);
    expect(ownArn).toContain(':role/permission-decay/sweeper/');
    for (const action of ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:TagRole', 'iam:UntagRole']) {
      const request = { action, resourceTags: governed, context: { 'aws:TagKeys': [grantTagKey('x')] } };
      expect(await simulate({ ...sweeper, ...request, resource: ownArn })).toBe('ExplicitlyDenied');
      // A look-alike of its name at the root path is outside the governed path: not allowed either.
      expect(await simulate({ ...sweeper, ...request, resource: roleArn(sweeperId) })).not.toBe('Allowed');
    }
  });

  test.each([
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteTable',
    'dynamodb:BatchWriteItem',
    'dynamodb:UpdateTable',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:DeleteBackup',
    'dynamodb:UpdateContinuousBackups',
  ])('cannot %s on the ledger (explicit deny)', async action => {
    const resource = action === 'dynamodb:DeleteBackup' ? `${sweeperLedgerArn}/backup/01700000000000-abcdef12` : sweeperLedgerArn;
    expect(await simulate({ ...sweeper, action, resource })).toBe('ExplicitlyDenied');
  });

  test('can append to the ledger; what IAM cannot say about PutItem, and the compensation', async () => {
    // Appends need PutItem (inside TransactWriteItems). IAM has no condition key for a request's
    // ConditionExpression, so it cannot require attribute_not_exists: the role COULD overwrite a
    // record with PutItem (UpdateItem is explicitly denied). Compensations: the sweeper's
    // code never writes without the condition and never calls UpdateItem/DeleteItem (checked below),
    // and any rewrite breaks the hash chain, which `history --verify` reports (tamper-evidence.test.ts).
    expect(await simulate({ ...sweeper, action: 'dynamodb:PutItem', resource: sweeperLedgerArn })).toBe('Allowed');
    const sources = readdirSync(path.join(__dirname, '../../lib/sweeper'))
      .filter(f => f.endsWith('.ts'))
      .map(f => readFileSync(path.join(__dirname, '../../lib/sweeper', f), 'utf8'))
      .join('\n');
    expect(sources).not.toMatch(
      /\b(UpdateCommand|UpdateItemCommand|DeleteCommand|DeleteItemCommand|BatchWriteCommand|DeleteTableCommand)\b/,
    );
    // No unconditional single-item put in the ledger module. That every Put the sweeper and the CLI
    // send carries a condition is checked on the wire (test/permissions/permission-coverage.test.ts).
    const ledger = readFileSync(path.join(__dirname, '../../lib/sweeper/ledger.ts'), 'utf8');
    expect(ledger).not.toMatch(/new PutCommand\(/);
  });

  test('PutRolePolicy: IAM cannot limit the document; the decision core only ever moves the date condition of a policy already there', () => {
    // IAM cannot express "PutRolePolicy only with this document". The sweeper's only put-inline /
    // create-policy-version actions come from decide, and for every plan they target a policy already
    // on the role and keep its statements exactly, apart from DateLessThan aws:CurrentTime. The
    // governed role's boundary also caps what any inline policy can grant (first describe block).
    const withoutExpiry = (text: string) =>
      canonicalPolicyJson({
        Statement: statementsOf(JSON.parse(text)).map(s => {
          const c = { ...(s.Condition as Record<string, Record<string, unknown>> | undefined) };
          if (c[EXPIRY_CONDITION_OPERATOR]) {
            const d = { ...c[EXPIRY_CONDITION_OPERATOR] };
            delete d[EXPIRY_CONDITION_KEY];
            if (Object.keys(d).length) c[EXPIRY_CONDITION_OPERATOR] = d;
            else delete c[EXPIRY_CONDITION_OPERATOR];
          }
          const { Condition: _c, ...rest } = s;
          return Object.keys(c).length ? { ...rest, Condition: c } : rest;
        }),
      });
    const instant = fc
      .integer({ min: -300, max: 600 })
      .map(h => new Date(Date.UTC(2030, 0, 10) + h * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    let writes = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            exp: instant,
            kind: fc.constantFrom('inline' as const, 'managed' as const),
            renewTo: fc.option(instant, { nil: null }),
          }),
          { maxLength: 4 },
        ),
        grants => {
          const policies = grants.map((g, i) => ({
            kind: g.kind,
            name: `g${i}`,
            ...(g.kind === 'managed' ? { arn: `arn:aws:iam::123456789012:policy/g${i}` } : {}),
            document: grantDoc(g.exp, `s3:Action${i}`),
          }));
          const tags = Object.fromEntries(grants.map((g, i) => [grantTagKey(`g${i}`), `expires=${g.exp} by=bob ticket=T`]));
          const renewals = new Map(
            grants.flatMap((g, i) =>
              g.renewTo
                ? ([
                    [
                      `RENEWAL#agent-p#g${i}`,
                      [
                        {
                          pk: `RENEWAL#agent-p#g${i}`,
                          sk: `2030-01-09T00:00:00Z#r`,
                          renewalId: 'r',
                          roleName: 'agent-p',
                          grant: `g${i}`,
                          until: g.renewTo,
                          ticket: 'T',
                          requestedBy: 'bob',
                          approvedBy: 'arn:aws:iam::123456789012:user/alice',
                          createdAt: '2030-01-09T00:00:00Z',
                        },
                      ],
                    ],
                  ] as const)
                : [],
            ),
          );
          const r = role(policies, tags);
          const plan = decide1(r, undefined, spec([]), renewals as never, '2030-01-10T00:00:00Z', OPTIONS);
          for (const a of plan.steps.flatMap(s => s.actions)) {
            if (a.type !== 'put-inline' && a.type !== 'create-policy-version') continue;
            writes++;
            const target =
              a.type === 'put-inline'
                ? policies.find(p => p.kind === 'inline' && p.name === a.policyName)
                : policies.find(p => p.arn === a.policyArn);
            expect(target).toBeDefined();
            expect(withoutExpiry(a.document)).toBe(withoutExpiry(target!.document));
          }
          applyInMemory(
            r,
            { pk: 'STATE', sk: 'agent-p', roleName: 'agent-p', seq: 0, hash: '0'.repeat(64), grants: {}, updatedAt: '' },
            plan,
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(writes).toBeGreaterThan(0);
  });
});

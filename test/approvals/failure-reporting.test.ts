/**
 * Failures that cannot be hidden: what a sweep's result counts for alarms
 * (pure), and the alarms and metric accessors PermissionSweeper synthesizes.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PermissionSweeper } from '../../lib';
import { IDENTITY_ENV, SWEEPER_METRICS } from '../../lib/contract';
import { StepOutcome } from '../../lib/sweeper/apply';
import { PlanStep, SweepPlan } from '../../lib/sweeper/decide';
import { sweepCounts } from '../../lib/sweeper/sweep-metrics';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';

const revokeStep = (roleName: string, grant: string): PlanStep => ({
  roleName,
  grant,
  actions: [
    { type: 'delete-inline', policyName: grant },
    { type: 'untag', key: `governance:grant:${grant}` },
  ],
  record: { decision: 'revoked', grant, message: 'expired' },
});
const plan = (...steps: PlanStep[]): SweepPlan => ({
  at: '2030-01-01T00:00:00Z',
  roles: [...new Set(steps.map(s => s.roleName))].map(roleName => ({ roleName, steps: steps.filter(s => s.roleName === roleName) })),
});
const ok = (roleName: string, grant: string, decision: StepOutcome['decision'] = 'revoked'): StepOutcome => ({
  roleName,
  grant,
  decision,
  ok: true,
  message: '',
});
const failed = (roleName: string, errorCode: string, grant?: string): StepOutcome => ({
  roleName,
  grant,
  decision: 'error',
  ok: false,
  errorCode,
  message: errorCode,
});

describe('sweepCounts', () => {
  test.each([
    ['every revocation done', plan(revokeStep('r1', 'a'), revokeStep('r2', 'b')), [ok('r1', 'a'), ok('r2', 'b')], [], [0, 0, 0]],
    ['an IAM failure after the record', plan(revokeStep('r1', 'a')), [failed('r1', 'IAM_ERROR', 'a')], [], [1, 1, 0]],
    [
      'a role that lost the ledger race every time',
      plan(revokeStep('r1', 'a'), revokeStep('r1', 'b')),
      [failed('r1', 'LEDGER_CONFLICT')],
      [],
      [2, 1, 1],
    ],
    ['finished by a converge step after a conflict', plan(revokeStep('r1', 'a')), [ok('r1', 'a', 'converge')], [], [0, 0, 0]],
    ['left for lack of time: not a failure', plan(revokeStep('r1', 'a')), [], ['r1'], [0, 0, 0]],
  ] as const)('%s', (_why, p, outcomes, leftRoles, [revocations, roles, conflicts]) => {
    expect(sweepCounts({ plan: p, outcomes: [...outcomes], leftRoles: [...leftRoles] })).toEqual({
      [SWEEPER_METRICS.failedRevocations]: revocations,
      [SWEEPER_METRICS.roleErrors]: roles,
      [SWEEPER_METRICS.ledgerConflicts]: conflicts,
    });
  });
});

describe('PermissionSweeper alarms, metrics and signing key', () => {
  ensureSweeperHandlerBundle();
  const stack = new Stack(new App(), 'Alarms');
  const sweeper = new PermissionSweeper(stack, 'Sweeper', { sessionNamedRoleIds: ['AROAEXAMPLEIDENTITYCENTER'] });
  const template = Template.fromStack(stack);

  test('metric accessors name the namespace, metric and service dimension the handler emits', () => {
    const m = sweeper.metricFailedRevocations();
    expect(m.namespace).toBe(SWEEPER_METRICS.namespace);
    expect(m.metricName).toBe(SWEEPER_METRICS.failedRevocations);
    expect(m.dimensions).toEqual({ service: SWEEPER_METRICS.service });
    expect(sweeper.metricRoleErrors().metricName).toBe(SWEEPER_METRICS.roleErrors);
    expect(sweeper.metricLedgerConflicts().metricName).toBe(SWEEPER_METRICS.ledgerConflicts);
    expect(sweeper.metricFailedSweeps().metricName).toBe(SWEEPER_METRICS.failedSweeps);
  });

  test.each([
    [SWEEPER_METRICS.failedRevocations, 1],
    [SWEEPER_METRICS.roleErrors, 3],
    [SWEEPER_METRICS.ledgerConflicts, 2],
  ])('an alarm on %s (%i periods)', (metricName, periods) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: SWEEPER_METRICS.namespace,
      MetricName: metricName,
      Threshold: 1,
      EvaluationPeriods: periods,
      Dimensions: [{ Name: 'service', Value: SWEEPER_METRICS.service }],
      AlarmActions: Match.anyValue(),
    });
  });

  test('the function signs with the ledger key and knows the session-named roles', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [IDENTITY_ENV.signingKeyId]: Match.anyValue(),
          [IDENTITY_ENV.sessionNamedRoleIds]: 'AROAEXAMPLEIDENTITYCENTER',
        }),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });
});

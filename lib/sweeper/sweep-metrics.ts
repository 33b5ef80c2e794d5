/**
 * What a sweep's result says for alarms: the counts the handler publishes as
 * metrics. Pure, so the numbers are tested without a Lambda.
 */
import { SWEEPER_METRICS } from '../contract';
import { SweepResult } from './sweep';

export interface SweepCounts {
  readonly [SWEEPER_METRICS.failedRevocations]: number;
  readonly [SWEEPER_METRICS.roleErrors]: number;
  readonly [SWEEPER_METRICS.ledgerConflicts]: number;
}

const REMOVALS = new Set(['delete-inline', 'detach']);

/** Failed removals, roles with errors and roles lost to ledger conflicts. Roles left for lack of time are not failures. */
export function sweepCounts(result: Pick<SweepResult, 'plan' | 'outcomes' | 'leftRoles'>): SweepCounts {
  const left = new Set(result.leftRoles);
  const planned = new Set<string>();
  for (const role of result.plan.roles) {
    if (left.has(role.roleName)) continue;
    for (const step of role.steps) {
      if (step.grant && step.actions.some(a => REMOVALS.has(a.type))) planned.add(`${role.roleName}\u0000${step.grant}`);
    }
  }
  const removed = new Set<string>();
  for (const o of result.outcomes) {
    const finished = o.decision === 'revoked' || o.decision === 'converge' || o.decision === 'cleaned';
    if (o.ok && o.grant && finished) removed.add(`${o.roleName}\u0000${o.grant}`);
  }
  const failing = new Set<string>();
  const conflicting = new Set<string>();
  for (const o of result.outcomes) {
    if (o.ok) continue;
    failing.add(o.roleName);
    if (o.errorCode === 'LEDGER_CONFLICT') conflicting.add(o.roleName);
  }
  let failedRevocations = 0;
  for (const key of planned) if (!removed.has(key)) failedRevocations++;
  return {
    [SWEEPER_METRICS.failedRevocations]: failedRevocations,
    [SWEEPER_METRICS.roleErrors]: failing.size,
    [SWEEPER_METRICS.ledgerConflicts]: conflicting.size,
  };
}

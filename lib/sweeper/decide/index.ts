/**
 * Decide: a pure function of the account snapshot, the ledger's STATE items,
 * the approved specs, the renewal records and the clock, returning a plan. It
 * performs no I/O and mutates none of its inputs.
 *
 * Record policy (so that a second sweep in a row changes nothing): `kept` is
 * recorded when the ledger first sees a grant (or its expiry is shortened);
 * afterwards only changes are recorded. Steps without a record ("converge")
 * finish IAM work whose record already exists (a sweep interrupted between its
 * ledger write and its IAM call); they never write to the ledger.
 *
 * The decision families live beside this file: role.ts (one role, policy by
 * policy), grant-expiry.ts (expiry, renewal, tag tampering, repair), drift.ts,
 * governance-tags.ts (governance tag tampering, foreign markers),
 * spec-lookup.ts (spec errors), documents.ts (policy documents and their IAM
 * actions); the plan types and the STATE reducer are in ../plan.ts.
 */
import { formatExpiry, LedgerRoleState } from '../../contract';
import { emptyState } from '../../contract';
import { PlannedRecord, RolePlan, SweepPlan } from '../plan';
import { RenewalIndex } from '../renewal';
import { AccountSnapshot } from '../snapshot';
import { SpecIndex } from '../specs';
import { decideForeignMarker } from './governance-tags';
import { decideRole } from './role';
import { DecideOptions } from './role-context';
import { specLookupOf } from './spec-lookup';

export type { IamAction, PlannedRecord, PlanStep, RolePlan, StatePatch, SweepPlan } from '../plan';
export { patchState } from '../plan';
export { attachmentOf, documentBoundedBy, documentHash, isUnboundedBy } from './documents';
export { decideForeignMarker } from './governance-tags';
export { decideRole, grantTagReading, renewalKeysNeeded } from './role';
export type { GrantTagReading } from './role';
export type { DecideOptions } from './role-context';
export { isBaselinePolicy, specLookupOf } from './spec-lookup';

/** Decides the whole sweep. */
export function decide(
  snapshot: AccountSnapshot,
  ledgerState: ReadonlyMap<string, LedgerRoleState>,
  specs: SpecIndex,
  renewals: RenewalIndex,
  clock: { readonly now: Date },
  options: DecideOptions,
): SweepPlan {
  const at = formatExpiry(clock.now);
  const roles: RolePlan[] = snapshot.roles.map(role => {
    try {
      const state = ledgerState.get(role.roleName) ?? emptyState(role.roleName);
      return decideRole(role, state, specLookupOf(role, specs), renewals, clock.now, options);
    } catch (e) {
      // One role's unexpected input must not stop the sweep of the others.
      const message = `role ${role.roleName}: the sweeper could not decide (${(e as Error).message}); nothing changed on this role`;
      const record: PlannedRecord = { decision: 'error', errorCode: 'DECIDE_FAILED', message };
      return { roleName: role.roleName, agentId: role.agentId, steps: [{ roleName: role.roleName, actions: [], record }] };
    }
  });
  for (const marked of snapshot.foreignMarkers ?? []) {
    roles.push(decideForeignMarker(marked, ledgerState.get(marked.roleName) ?? emptyState(marked.roleName)));
  }
  return { at, roles };
}

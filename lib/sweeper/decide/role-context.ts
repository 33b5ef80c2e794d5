/** What every policy of one role is decided against, shared by the decision families. */
import { AgentSpec, LedgerRoleState } from '../../contract';
import { PlanStep } from '../plan';
import { RenewalIndex } from '../renewal';
import { RoleGrantTags } from './memo';

export interface DecideOptions {
  /** Revoke drift at once instead of letting it decay. */
  readonly strict: boolean;
  readonly driftPeriodSeconds: number;
  readonly warningWindowSeconds: number;
  /** Seconds between freeze checkpoints of a role (lib/sweeper/checkpoint.ts). @default none */
  readonly checkpointIntervalSeconds?: number;
}

/** One object per role, so the common per-policy path allocates nothing. */
export interface RoleContext {
  readonly roleName: string;
  readonly state: LedgerRoleState;
  readonly spec?: AgentSpec;
  readonly owner: string;
  readonly renewals: RenewalIndex;
  readonly options: DecideOptions;
  readonly nowMs: number;
  readonly nowText: string;
  readonly driftUntil: string;
  readonly horizonMs: number;
  readonly tags: RoleGrantTags;
  /** The role's plan so far; the decision families append to it. */
  readonly steps: PlanStep[];
}

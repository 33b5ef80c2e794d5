/**
 * The plan: what decide returns and apply carries out, shared by the sweep,
 * the checkpoint builder and the CLI. A plan is a list of steps per role; a
 * step writes its record (with a STATE patch) first, then makes its IAM
 * changes, so nothing is removed before it is written down.
 */
import { GrantMemory, LedgerRecord, LedgerRoleState, SealedIntent } from '../contract';

/** One IAM change. Every action is idempotent when applied again. */
export type IamAction =
  | { readonly type: 'put-inline'; readonly policyName: string; readonly document: string }
  | { readonly type: 'create-policy-version'; readonly policyArn: string; readonly document: string }
  | { readonly type: 'delete-inline'; readonly policyName: string }
  | { readonly type: 'detach'; readonly policyArn: string }
  /** Only the CLI's request and restore attach (a managed grant policy); the sweeper never widens a role. */
  | { readonly type: 'attach'; readonly policyArn: string }
  | { readonly type: 'tag'; readonly key: string; readonly value: string }
  | { readonly type: 'untag'; readonly key: string };

/** What a step changes in the role's STATE item (null removes an entry). */
export interface StatePatch {
  readonly grants?: { readonly [grant: string]: GrantMemory | null };
  readonly baselineFlags?: { readonly [policy: string]: string | null };
  readonly specError?: string | null;
  /** The instant of a checkpoint this step records. */
  readonly lastCheckpointAt?: string;
  /** sha256 of the foreign marker this step records. */
  readonly foreignMarker?: string;
}

/** The record a step writes: the decision's own fields (the ledger adds role, time, run, actor and chain fields). */
export type PlannedRecord = Pick<
  LedgerRecord,
  'decision' | 'grant' | 'expiresAt' | 'requestedBy' | 'ticket' | 'policy' | 'message' | 'errorCode' | 'checkpoint' | 'governanceTags'
>;

/**
 * One step of a role's plan: write the record (with the STATE patch), then
 * make the IAM changes. Record first, so nothing is removed before it is
 * written down. A step without a record only converges IAM to the ledger.
 */
export interface PlanStep {
  readonly roleName: string;
  readonly grant?: string;
  readonly record?: PlannedRecord;
  readonly memory?: StatePatch;
  readonly actions: readonly IamAction[];
  /** Tell the owner (SNS). For `warned`, sent before the record so a failed send is retried. */
  readonly notify?: { readonly subject: string; readonly message: string };
}

/**
 * A person's step (the CLI's request, renew and restore): write the sealed
 * intent under the caller's own partition (and the pointer by which the
 * sweeper finds it), then make the IAM changes. Intent first, so a change
 * whose IAM call fails leaves only a harmless intent; the sweeper records the
 * change, signed, when it next sees the role. A person never writes the chain.
 */
export interface IntentStep {
  readonly roleName: string;
  readonly intent: SealedIntent;
  /** Where the sweeper finds the intent (its keys, and fields it reads there). @default no pointer */
  readonly pointer?: { readonly pk: string; readonly sk: string; readonly extra?: Record<string, unknown> };
  readonly actions: readonly IamAction[];
}

export interface RolePlan {
  readonly roleName: string;
  readonly agentId?: string;
  readonly steps: readonly PlanStep[];
}

export interface SweepPlan {
  readonly at: string;
  readonly roles: readonly RolePlan[];
}

/** The memory without undefined fields (DynamoDB refuses them, and the hash chain must not see them). */
export function stripped(m: GrantMemory): GrantMemory {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
  return out as unknown as GrantMemory;
}

/** Applies a step's patch to a STATE body. Pure. */
export function patchState(
  state: LedgerRoleState,
  patch: StatePatch | undefined,
): Pick<LedgerRoleState, 'grants' | 'baselineFlags' | 'specError' | 'lastCheckpointAt' | 'foreignMarker'> {
  const grants: Record<string, GrantMemory> = { ...state.grants };
  for (const [k, v] of Object.entries(patch?.grants ?? {})) {
    if (v === null) delete grants[k];
    else grants[k] = stripped(v);
  }
  const flags: Record<string, string> = { ...(state.baselineFlags ?? {}) };
  for (const [k, v] of Object.entries(patch?.baselineFlags ?? {})) {
    if (v === null) delete flags[k];
    else flags[k] = v;
  }
  const specError = patch && 'specError' in patch ? (patch.specError ?? undefined) : state.specError;
  const lastCheckpointAt = patch?.lastCheckpointAt ?? state.lastCheckpointAt;
  const foreignMarker = patch?.foreignMarker ?? state.foreignMarker;
  return {
    grants,
    baselineFlags: flags,
    ...(specError !== undefined ? { specError } : {}),
    ...(lastCheckpointAt !== undefined ? { lastCheckpointAt } : {}),
    ...(foreignMarker !== undefined ? { foreignMarker } : {}),
  };
}

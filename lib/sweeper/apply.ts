/**
 * Apply: carries out a role's plan step by step. Each step writes its record
 * (and STATE patch) first, then makes its IAM changes, then sends its event.
 * Every IAM call is idempotent (NoSuchEntity on a delete = already done), so a
 * crash between any two calls followed by a new sweep converges.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  AttachRolePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListPolicyVersionsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Decision, EVENT_DETAIL_TYPE, EVENT_SOURCE, LedgerRecord, LedgerRoleState, sealPartition, sealSortKey } from '../contract';
import { AwsClients } from './aws-clients';
import { IamAction, IntentStep, patchState, PlannedRecord, PlanStep, RolePlan } from './plan';
import { errorOf, isNoSuchEntity } from './errors';
import { appendRecord, LedgerConflictError, LedgerSealer } from './ledger';

export interface ApplyContext {
  readonly clients: AwsClients;
  readonly ledgerTable: string;
  readonly runId: string;
  /** `sweeper`, or the caller's ARN for CLI commands. */
  readonly actor: string;
  /** The sweep's instant (expiry form). */
  readonly at: string;
  readonly eventBusName?: string;
  readonly ownerTopicArn?: string;
  /** Runs a ledger append in its turn: a sweep applying several roles at once appends one record at a time. @default at once */
  readonly ledgerTurn?: <T>(append: () => Promise<T>) => Promise<T>;
  /** Signs each record and anchors the role's head (the sweeper's signing key). @default hash chain only */
  readonly sealer?: LedgerSealer;
}

/** What happened to one step. */
export interface StepOutcome {
  readonly roleName: string;
  readonly grant?: string;
  /** The recorded decision, or `converge` for a step that only finished IAM work. */
  readonly decision: Decision | 'converge';
  readonly message: string;
  readonly ok: boolean;
  readonly errorCode?: string;
  readonly seq?: number;
  /** Why the decision's event (or the owner's notice) was not delivered; also at the end of `message`. */
  readonly eventProblem?: string;
}

/** Sends a record as an event (detail = the record without pk/sk). A failed send is reported, not fatal. */
export async function publishRecord(ctx: ApplyContext, record: LedgerRecord): Promise<string | undefined> {
  const { pk: _pk, sk: _sk, ...detail } = record;
  try {
    const r = await ctx.clients.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: EVENT_SOURCE,
            DetailType: EVENT_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
            EventBusName: ctx.eventBusName,
            Resources: [],
          },
        ],
      }),
    );
    if (r.FailedEntryCount) return `event not delivered: ${r.Entries?.[0]?.ErrorCode} ${r.Entries?.[0]?.ErrorMessage}`;
    return undefined;
  } catch (e) {
    return `event not delivered: ${errorOf(e).message}`;
  }
}

/** Appends a record to the role's chain and publishes it. Throws LedgerConflictError on a lost race. */
export async function recordAndPublish(
  ctx: ApplyContext,
  head: LedgerRoleState,
  agentId: string | undefined,
  planned: PlannedRecord,
  nextBody: ReturnType<typeof patchState>,
  extraPuts: Record<string, unknown>[] = [],
): Promise<{ record: LedgerRecord; state: LedgerRoleState; eventProblem?: string }> {
  const append = () =>
    appendRecord(
      ctx.clients.ddb,
      ctx.ledgerTable,
      head,
      {
        roleName: head.roleName,
        agentId,
        at: ctx.at,
        runId: ctx.runId,
        actor: ctx.actor,
        ...planned,
      },
      nextBody,
      extraPuts,
      ctx.sealer,
    );
  const { record, state } = await (ctx.ledgerTurn ? ctx.ledgerTurn(append) : append());
  const eventProblem = await publishRecord(ctx, record);
  return { record, state, eventProblem };
}

export async function applyIamAction(ctx: ApplyContext, roleName: string, a: IamAction): Promise<void> {
  const iam = ctx.clients.iam;
  switch (a.type) {
    case 'put-inline':
      await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: a.policyName, PolicyDocument: a.document }));
      return;
    case 'create-policy-version':
      try {
        await iam.send(new CreatePolicyVersionCommand({ PolicyArn: a.policyArn, PolicyDocument: a.document, SetAsDefault: true }));
      } catch (e) {
        if ((e as { name?: string }).name !== 'LimitExceededException') throw e;
        // Five versions is IAM's limit: drop the oldest non-default version and try again.
        const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: a.policyArn }))).Versions ?? [];
        const oldest = versions
          .filter(v => !v.IsDefaultVersion)
          .sort((x, y) => (x.CreateDate?.getTime() ?? 0) - (y.CreateDate?.getTime() ?? 0))[0];
        if (!oldest?.VersionId) throw e;
        await iam.send(new DeletePolicyVersionCommand({ PolicyArn: a.policyArn, VersionId: oldest.VersionId }));
        await iam.send(new CreatePolicyVersionCommand({ PolicyArn: a.policyArn, PolicyDocument: a.document, SetAsDefault: true }));
      }
      return;
    case 'delete-inline':
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: a.policyName }));
      } catch (e) {
        if (!isNoSuchEntity(e)) throw e;
      }
      return;
    case 'attach':
      await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: a.policyArn }));
      return;
    case 'detach':
      try {
        await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: a.policyArn }));
      } catch (e) {
        if (!isNoSuchEntity(e)) throw e;
      }
      return;
    case 'tag':
      await iam.send(new TagRoleCommand({ RoleName: roleName, Tags: [{ Key: a.key, Value: a.value }] }));
      return;
    case 'untag':
      try {
        await iam.send(new UntagRoleCommand({ RoleName: roleName, TagKeys: [a.key] }));
      } catch (e) {
        if (!isNoSuchEntity(e)) throw e;
      }
      return;
  }
}

export function describeAction(a: IamAction): string {
  switch (a.type) {
    case 'put-inline':
      return `put inline policy ${a.policyName}`;
    case 'create-policy-version':
      return `create a default version of ${a.policyArn}`;
    case 'delete-inline':
      return `delete inline policy ${a.policyName}`;
    case 'attach':
      return `attach ${a.policyArn}`;
    case 'detach':
      return `detach ${a.policyArn}`;
    case 'tag':
      return `tag ${a.key}=${a.value}`;
    case 'untag':
      return `untag ${a.key}`;
  }
}

/**
 * Applies one role's plan. Returns the outcomes and the new STATE head.
 * `conflict` says another writer appended to the role first: the remaining
 * steps were not applied; the caller re-reads the role and decides again.
 */
export async function applyRolePlan(
  ctx: ApplyContext,
  plan: RolePlan,
  head: LedgerRoleState,
): Promise<{ outcomes: StepOutcome[]; state: LedgerRoleState; conflict: boolean }> {
  const outcomes: StepOutcome[] = [];
  let state = head;
  const failedGrants = new Set<string>();

  const recordError = async (step: PlanStep, code: string, message: string) => {
    outcomes.push({ roleName: plan.roleName, grant: step.grant, decision: 'error', message, ok: false, errorCode: code });
    if (step.grant) failedGrants.add(step.grant);
    try {
      const r = await recordAndPublish(
        ctx,
        state,
        plan.agentId,
        { decision: 'error', grant: step.grant, errorCode: code, message },
        patchState(state, undefined),
      );
      state = r.state;
    } catch (e) {
      if (e instanceof LedgerConflictError) throw e;
      // The ledger itself failed: the outcome above still reports it.
    }
  };

  for (const step of plan.steps) {
    if (step.grant && failedGrants.has(step.grant)) continue; // the rest of this grant waits for the next sweep
    try {
      await applyStep(step);
    } catch (e) {
      if (e instanceof LedgerConflictError) return { outcomes, state, conflict: true };
      throw e;
    }
  }
  return { outcomes, state, conflict: false };

  async function applyStep(step: PlanStep): Promise<void> {
    try {
      if (step.notify && step.record?.decision === 'warned') {
        if (ctx.ownerTopicArn)
          await ctx.clients.sns.send(
            new PublishCommand({ TopicArn: ctx.ownerTopicArn, Subject: step.notify.subject.slice(0, 99), Message: step.notify.message }),
          );
      }
      let seq: number | undefined;
      let eventProblem: string | undefined;
      if (step.record) {
        // A warning says whether it was sent: the plan cannot know whether this sweep has an owner topic.
        const sent = ctx.ownerTopicArn ? ` (sent to ${ctx.ownerTopicArn})` : ' (not sent: no owner topic)';
        const planned =
          step.notify && step.record.decision === 'warned' ? { ...step.record, message: step.record.message + sent } : step.record;
        const r = await recordAndPublish(ctx, state, plan.agentId, planned, patchState(state, step.memory));
        state = r.state;
        seq = r.record.seq;
        eventProblem = r.eventProblem;
      }
      for (const action of step.actions) {
        try {
          await applyIamAction(ctx, plan.roleName, action);
        } catch (e) {
          const err = errorOf(e, 'IAM_ERROR');
          throw Object.assign(new Error(`could not ${describeAction(action)} on role ${plan.roleName}: ${err.message}`), {
            code: err.code,
          });
        }
      }
      if (step.notify && step.record?.decision !== 'warned' && ctx.ownerTopicArn) {
        try {
          await ctx.clients.sns.send(
            new PublishCommand({ TopicArn: ctx.ownerTopicArn, Subject: step.notify.subject.slice(0, 99), Message: step.notify.message }),
          );
        } catch (e) {
          eventProblem = `owner not notified: ${errorOf(e).message}`;
        }
      }
      outcomes.push({
        roleName: plan.roleName,
        grant: step.grant,
        decision: step.record?.decision ?? 'converge',
        ok: true,
        seq,
        message:
          (step.record?.message ?? `finished: ${step.actions.map(describeAction).join(', ')}`) + (eventProblem ? ` (${eventProblem})` : ''),
        ...(eventProblem ? { eventProblem } : {}),
      });
    } catch (e) {
      if (e instanceof LedgerConflictError) throw e;
      const err = errorOf(e, 'APPLY_FAILED');
      await recordError(step, err.code, err.message);
    }
  }
}

/**
 * Applies a person's step: the sealed intent (and its pointer), then the IAM
 * changes in order, through the same IAM calls a sweep's steps use. Both
 * items are new: an existing key is never overwritten. An IAM error is thrown
 * as the SDK gave it (the CLI reports it).
 */
export async function applyIntentStep(ctx: ApplyContext, step: IntentStep): Promise<void> {
  const put = (Item: Record<string, unknown>) =>
    ctx.clients.ddb.send(
      new PutCommand({
        TableName: ctx.ledgerTable,
        Item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  await put({ pk: sealPartition(step.intent.userId), sk: sealSortKey(step.intent), ...step.intent });
  if (step.pointer) await put({ ...step.intent, ...step.pointer.extra, pk: step.pointer.pk, sk: step.pointer.sk });
  for (const action of step.actions) await applyIamAction(ctx, step.roleName, action);
}

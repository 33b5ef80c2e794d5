/**
 * Drift: a policy that is neither baseline nor a tagged grant, or whose expiry
 * tag is malformed (never read as "no expiry"). It decays like a grant: it is
 * recorded, given an expiry (the drift period) and revoked then, unless strict
 * mode revokes it at once.
 */
import { DRIFT_REQUESTER, DRIFT_TICKET, formatGrantTag, GrantMemory, grantTagKey } from '../../contract';
import { IamAction, PlanStep } from '../plan';
import { RolePolicy } from '../snapshot';
import { attachmentOf, boundingAction, documentHash, removalActions } from './documents';
import { expiryMs, laterOf } from './memo';
import { RoleContext } from './role-context';
import { SpecGrant, specExpiryOf } from './spec-lookup';

/** Drift: an untagged policy, or a malformed expiry tag (never "no expiry"). */
export function driftSteps(
  r: RoleContext,
  p: RolePolicy,
  tagValue: string | undefined,
  malformed: string | undefined,
  mem: GrantMemory | undefined,
  specGrant: SpecGrant | undefined,
): void {
  const { roleName, owner, options, nowText, driftUntil, horizonMs, steps } = r;
  const grant = p.name;
  // Drift: an untagged policy, or a malformed expiry tag (never "no expiry").
  const recorded = laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specExpiryOf(specGrant, mem));
  const until = recorded !== undefined && recorded < driftUntil ? recorded : driftUntil;
  const bounds = boundingAction(p, until, 'drift') !== undefined;
  const memory: GrantMemory = {
    expiresAt: until,
    requestedBy: DRIFT_REQUESTER,
    ticket: DRIFT_TICKET,
    status: 'active',
    origin: 'drift',
    firstSeenAt: mem?.firstSeenAt ?? nowText,
    ...(bounds ? { boundedDocumentHash: documentHash(p) } : {}),
    // The drift notice already tells the owner when it decays: inside the warning window that is the warning.
    ...(expiryMs(until) <= horizonMs ? { warnedFor: until } : {}),
  };
  const expiredDriftRevocation = (m: GrantMemory): PlanStep => ({
    roleName,
    grant,
    actions: removalActions(p, true),
    record: {
      decision: 'revoked',
      grant,
      expiresAt: m.expiresAt,
      policy: attachmentOf(p),
      requestedBy: DRIFT_REQUESTER,
      ticket: DRIFT_TICKET,
      message: `drift policy ${grant} expired at ${m.expiresAt} and was revoked`,
    },
    memory: { grants: { [grant]: { ...m, status: 'revoked', revokedDocumentHash: documentHash(p) } } },
  });
  const why =
    malformed !== undefined
      ? `malformed expiry tag "${tagValue}" (${malformed})`
      : `policy ${grant} is neither baseline nor a tagged grant`;
  const alreadyRecorded =
    mem?.status === 'active' && mem.origin === 'drift' && mem.expiresAt === until && mem.warnedFor === memory.warnedFor;
  if (!options.strict && malformed !== undefined && alreadyRecorded) {
    // Drift already recorded with this expiry (a sweep interrupted before its re-tag): re-tag without a new record.
    steps.push({ roleName, grant, actions: driftDecayActions(p, until) });
    if (until <= nowText) steps.push(expiredDriftRevocation(memory));
    return;
  }
  if (options.strict) {
    // Remembered as already expired, so an interrupted strict sweep revokes it next time.
    const strictMemory: GrantMemory = { ...memory, expiresAt: nowText };
    steps.push({
      roleName,
      grant,
      actions: [],
      record: {
        decision: 'drift',
        grant,
        policy: attachmentOf(p),
        requestedBy: DRIFT_REQUESTER,
        ticket: DRIFT_TICKET,
        message: `${why}; strict mode revokes it at once`,
      },
      memory: { grants: { [grant]: strictMemory } },
      notify: { subject: `Drift revoked on ${roleName}`, message: `${why}. Strict mode revoked it at once (owner ${owner}).` },
    });
    steps.push({
      roleName,
      grant,
      actions: removalActions(p, tagValue !== undefined),
      record: {
        decision: 'revoked',
        grant,
        policy: attachmentOf(p),
        requestedBy: DRIFT_REQUESTER,
        ticket: DRIFT_TICKET,
        message: `drift policy ${grant} revoked (strict mode)`,
      },
      memory: { grants: { [grant]: { ...strictMemory, status: 'revoked', revokedDocumentHash: documentHash(p) } } },
    });
  } else {
    steps.push({
      roleName,
      grant,
      actions: driftDecayActions(p, until),
      record: {
        decision: 'drift',
        grant,
        policy: attachmentOf(p),
        expiresAt: until,
        requestedBy: DRIFT_REQUESTER,
        ticket: DRIFT_TICKET,
        message: `${why}; it decays at ${until}`,
      },
      memory: { grants: { [grant]: memory } },
      notify: {
        subject: `Drift found on ${roleName}`,
        message: `${why}. It now expires at ${until} unless it is requested properly (owner ${owner}).`,
      },
    });
    // The recorded expiry this drift keeps has already passed: revoke in this sweep, not the next.
    if (until <= nowText) steps.push(expiredDriftRevocation(memory));
  }
}

/**
 * Drift decays like a grant: the date condition of its expiry on an inline
 * document (IAM ends it even if no sweep runs), then the canonical drift tag,
 * which replaces a malformed or too-far one.
 */
function driftDecayActions(p: RolePolicy, until: string): IamAction[] {
  const bound = boundingAction(p, until, 'drift');
  const value = formatGrantTag({ expiresAt: until, requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET });
  const tag: IamAction = { type: 'tag', key: grantTagKey(p.name), value };
  return bound ? [bound, tag] : [tag];
}

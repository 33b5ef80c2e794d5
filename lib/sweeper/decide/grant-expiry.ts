/**
 * Grant expiry and renewal: a tagged grant (or a known grant whose tag was
 * removed) is kept, warned about, renewed or revoked at its recorded expiry; a
 * tag moved without a renewal is tampering and is put back; a grant that does
 * not end in IAM on its own is repaired (the date condition added).
 */
import { formatGrantTag, GrantMemory, GrantTag, grantTagKey } from '../../contract';
import { PlanStep, stripped } from '../plan';
import { chooseRenewal, renewalKey } from '../renewal';
import { RolePolicy } from '../snapshot';
import { attachmentOf, boundingAction, documentHash, expiryActions, removalActions } from './documents';
import { expiryMs } from './memo';
import { RoleContext } from './role-context';

/** A tagged grant (or a known grant whose tag was removed) with something to record or converge. */
export function grantSteps(
  r: RoleContext,
  p: RolePolicy,
  tagValue: string | undefined,
  parsedTag: GrantTag | undefined,
  mem: GrantMemory | undefined,
  requestedBy: string,
  ticket: string,
  recorded: string | undefined,
  firstSeen: boolean,
): void {
  const { roleName, spec, owner, renewals, nowMs, nowText, horizonMs } = r;
  const grant = p.name;
  let current: GrantMemory = {
    expiresAt: recorded ?? parsedTag!.expiresAt,
    requestedBy,
    ticket,
    status: 'active',
    origin: mem?.origin ?? 'grant',
    firstSeenAt: firstSeen ? nowText : mem!.firstSeenAt,
    ...(mem?.warnedFor && !firstSeen ? { warnedFor: mem.warnedFor } : {}),
    ...(mem?.previousExpiresAt && !firstSeen ? { previousExpiresAt: mem.previousExpiresAt } : {}),
    ...(mem?.boundedDocumentHash && !firstSeen ? { boundedDocumentHash: mem.boundedDocumentHash } : {}),
    ...(mem?.shortenedFrom && !firstSeen ? { shortenedFrom: mem.shortenedFrom } : {}),
  };
  const planned: PlanStep[] = [];
  const tagExp = parsedTag?.expiresAt;

  if (recorded !== undefined && tagExp === undefined) {
    if (mem?.origin === 'drift' && mem.status === 'active') {
      planned.push({ roleName, grant, actions: expiryActions(p, recorded, requestedBy, ticket).filter(a => a.type === 'tag') });
    } else {
      planned.push({
        roleName,
        grant,
        actions: expiryActions(p, recorded, requestedBy, ticket).filter(a => a.type === 'tag'),
        record: {
          decision: 'tampering',
          grant,
          expiresAt: recorded,
          requestedBy,
          ticket,
          message: `expiry tag of ${grant} was removed; re-tagged with its recorded expiry ${recorded}`,
        },
        memory: { grants: { [grant]: current } },
      });
    }
  } else if (recorded !== undefined && tagExp !== undefined && tagExp > recorded) {
    // A tag moved to a renewal's end is not tampering, even once that renewal has ended (a restore the sweeper saw late).
    const covering = chooseRenewal(renewals.get(renewalKey(roleName, grant)), roleName, grant, requestedBy, nowMs, spec, true);
    if (!covering || covering.until < tagExp) {
      planned.push({
        roleName,
        grant,
        actions: [{ type: 'tag', key: grantTagKey(grant), value: formatGrantTag({ expiresAt: recorded, requestedBy, ticket }) }],
        record: {
          decision: 'tampering',
          grant,
          expiresAt: recorded,
          requestedBy,
          ticket,
          message:
            `expiry tag of ${grant} moved from ${recorded} to ${tagExp} without a renewal; ` +
            `the grant ends at its recorded expiry ${recorded}`,
        },
        memory: { grants: { [grant]: current } },
      });
    } else if (expiryMs(tagExp) <= nowMs) {
      // The renewal that moved the tag has already ended (no sweep saw it in time): the grant ran until the tag's expiry,
      // so that is the expiry it is revoked at, not the older recorded one.
      current = { ...current, expiresAt: tagExp };
    }
  } else if (recorded !== undefined && tagExp !== undefined && tagExp < recorded) {
    if (mem && mem.status === 'active' && mem.previousExpiresAt === tagExp) {
      // A renewal was recorded but its IAM change did not finish: finish it.
      planned.push({ roleName, grant, actions: expiryActions(p, recorded, requestedBy, ticket) });
    } else {
      // Remembered, so the longer spec expiry it was shortened from does not make every sweep record it again.
      current = { ...current, expiresAt: tagExp, shortenedFrom: recorded };
      planned.push({
        roleName,
        grant,
        actions: [],
        record: {
          decision: 'kept',
          grant,
          expiresAt: tagExp,
          requestedBy,
          ticket,
          message: `expiry of ${grant} shortened from ${recorded} to ${tagExp}`,
        },
        memory: { grants: { [grant]: current } },
      });
    }
  }

  const warn = (expiry: string, expiryAtMs: number) => {
    current = { ...current, warnedFor: expiry };
    const left = Math.round((expiryAtMs - nowMs) / 3600000);
    planned.push({
      roleName,
      grant,
      actions: [],
      record: {
        decision: 'warned',
        grant,
        expiresAt: expiry,
        requestedBy,
        ticket,
        message: `${grant} expires at ${expiry} (in about ${left}h); warning for owner ${owner}`,
      },
      memory: { grants: { [grant]: stripped(current) } },
      notify: {
        subject: `Grant ${grant} on ${roleName} expires at ${expiry}`,
        message:
          `Grant ${grant} (requested by ${requestedBy}, ticket ${ticket}) on role ${roleName} expires at ${expiry}. ` +
          `Renew it with: permission-decay renew --role ${roleName} --grant ${grant} --until <instant> --ticket <ticket>`,
      },
    });
  };
  const effective = current.expiresAt;
  const effMs = expiryMs(effective);
  if (effMs <= nowMs || effMs <= horizonMs) {
    const renewal = chooseRenewal(renewals.get(renewalKey(roleName, grant)), roleName, grant, requestedBy, nowMs, spec);
    if (renewal && renewal.until > effective) {
      current = { ...current, expiresAt: renewal.until, previousExpiresAt: effective, warnedFor: undefined };
      planned.push({
        roleName,
        grant,
        actions: expiryActions(p, renewal.until, requestedBy, ticket),
        record: {
          decision: 'renewed',
          grant,
          expiresAt: renewal.until,
          requestedBy,
          ticket: renewal.ticket,
          message: `${grant} renewed until ${renewal.until} (renewal ${renewal.renewalId}, approved by ${renewal.approvedBy})`,
        },
        memory: { grants: { [grant]: stripped(current) } },
      });
      // Renewed to an instant still inside the warning window: warn now, so the next sweep has nothing to add.
      const untilMs = expiryMs(renewal.until);
      if (untilMs <= horizonMs) warn(renewal.until, untilMs);
    } else if (effMs <= nowMs) {
      current = { ...current, status: 'revoked', revokedDocumentHash: documentHash(p) };
      planned.push({
        // Untag too when an earlier step of this plan put the tag back (a removed tag re-tagged as tampering).
        roleName,
        grant,
        actions: removalActions(p, tagValue !== undefined || planned.some(st => st.actions.some(a => a.type === 'tag'))),
        record: {
          decision: 'revoked',
          grant,
          expiresAt: effective,
          requestedBy,
          ticket,
          policy: attachmentOf(p),
          message: `${grant} expired at ${effective} and was revoked`,
        },
        memory: { grants: { [grant]: current } },
      });
    } else if (current.warnedFor !== effective) {
      warn(effective, effMs);
    }
  }

  if (firstSeen && !planned.some(s => s.record)) {
    planned.unshift({
      roleName,
      grant,
      actions: [],
      record: {
        decision: 'kept',
        grant,
        expiresAt: current.expiresAt,
        requestedBy,
        ticket,
        message: `grant ${grant} first seen; expires at ${current.expiresAt}`,
      },
      memory: { grants: { [grant]: current } },
    });
  }
  // A grant still on the role must end in IAM at its expiry even if no sweep runs again: a hand-written grant
  // (tagged, but without the date condition, or with a later one) gets the condition, its old document recorded first.
  const rewrites = planned.some(st => st.actions.some(a => a.type === 'put-inline' || a.type === 'create-policy-version'));
  const bounding = current.status === 'active' && !rewrites ? boundingAction(p, current.expiresAt, current.origin) : undefined;
  if (bounding) {
    const hash = documentHash(p);
    if (current.boundedDocumentHash === hash) {
      // This document was recorded and its bounding planned, but the IAM change did not finish: finish it.
      planned.push({ roleName, grant, actions: [bounding] });
    } else {
      planned.push({
        roleName,
        grant,
        actions: [bounding],
        record: {
          decision: 'repaired',
          grant,
          expiresAt: current.expiresAt,
          requestedBy,
          ticket,
          policy: attachmentOf(p),
          message:
            `statements of ${grant} did not all carry the date condition of its expiry ${current.expiresAt}; ` +
            'added, so IAM ends it then even if no sweep runs',
        },
        memory: { grants: { [grant]: stripped({ ...current, boundedDocumentHash: hash }) } },
      });
    }
  }
  r.steps.push(...planned);
}

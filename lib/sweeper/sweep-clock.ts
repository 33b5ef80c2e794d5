/**
 * The instant a scheduled sweep judges by. A retried invocation must decide
 * as the first attempt did, so the scheduled event's `time` is preferred; but
 * whoever can invoke the function can write any `time`, so it is honoured only
 * within a bounded skew of the real clock. A forged far-future time would
 * revoke early, a forged far-past one would keep expired grants: outside the
 * window the real clock wins.
 */
import { formatExpiry, normalizeInstant } from '../contract';

/** How far ahead of the real clock an event's time may be: clock skew between EventBridge and Lambda, nothing more. */
export const SCHEDULED_TIME_MAX_AHEAD_SECONDS = 5 * 60;
/**
 * How far behind the real clock an event's time may be: the schedule target's
 * maximum event age (1 h, PermissionSweeper's rule target and async invoke
 * config) plus 10 minutes for the function's own run and retries' backoff.
 * A later retry is judged by the real clock: it decides as of now, which is
 * what a fresh sweep would do.
 */
export const SCHEDULED_TIME_MAX_BEHIND_SECONDS = 70 * 60;

/** The part of an EventBridge scheduled event the sweeper reads. */
interface ScheduledEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly time?: string;
}

/** The instant chosen, and why the event's time was not used when it was not. */
export interface SweepInstantChoice {
  /** The sweep's instant, in the expiry form. */
  readonly instant: string;
  readonly source: 'scheduled-event' | 'clock';
  /** Why a scheduled event's time was refused (absent when there was none to refuse, or it was used). */
  readonly refused?: string;
}

/**
 * The scheduled event's `time` when the event is a well-formed scheduled event
 * whose time lies within [now - SCHEDULED_TIME_MAX_BEHIND_SECONDS, now +
 * SCHEDULED_TIME_MAX_AHEAD_SECONDS]; else the real clock (to the second).
 */
export function chooseSweepInstant(event: unknown, clock: () => Date = () => new Date()): SweepInstantChoice {
  const now = clock();
  const real = formatExpiry(new Date(Math.floor(now.getTime() / 1000) * 1000));
  const e = (event ?? {}) as ScheduledEvent;
  const isScheduled = e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event' && typeof e.time === 'string';
  if (!isScheduled) return { instant: real, source: 'clock' };
  let scheduled: string;
  try {
    scheduled = normalizeInstant(e.time!, 'scheduled event time');
  } catch (err) {
    return { instant: real, source: 'clock', refused: (err as Error).message };
  }
  const offsetSeconds = (Date.parse(scheduled) - now.getTime()) / 1000;
  if (offsetSeconds > SCHEDULED_TIME_MAX_AHEAD_SECONDS || offsetSeconds < -SCHEDULED_TIME_MAX_BEHIND_SECONDS) {
    return {
      instant: real,
      source: 'clock',
      refused:
        `scheduled event time ${scheduled} is ${Math.round(Math.abs(offsetSeconds))}s ${offsetSeconds > 0 ? 'ahead of' : 'behind'} ` +
        `the clock (${real}); only ${SCHEDULED_TIME_MAX_AHEAD_SECONDS}s ahead or ${SCHEDULED_TIME_MAX_BEHIND_SECONDS}s behind is honoured, ` +
        'so the sweep judges by the clock',
    };
  }
  return { instant: scheduled, source: 'scheduled-event' };
}

import { sweepInstant } from '../../lib/sweeper/handler';
import { chooseSweepInstant } from '../../lib/sweeper/sweep-clock';

const clock = () => new Date('2026-11-26T10:00:00.500Z');
const scheduled = (time: unknown) => ({ source: 'aws.events', 'detail-type': 'Scheduled Event', time });

describe('the instant a Lambda sweep judges by', () => {
  // The window, spelled out here: at most 5 minutes ahead of the clock, at most 70 minutes behind it.
  test.each([
    ['on time', '2026-11-26T10:00:00Z'],
    ['a retry 69 minutes later', '2026-11-26T08:51:00Z'],
    ['an event 70 minutes old (the edge)', '2026-11-26T08:50:01Z'],
    ['4 minutes ahead (clock skew)', '2026-11-26T10:04:00Z'],
  ])('is the scheduled event time when it is %s, so a retry decides as the first attempt did', (_what, time) => {
    expect(sweepInstant(scheduled(time), clock)).toBe(time);
    expect(chooseSweepInstant(scheduled(time), clock).source).toBe('scheduled-event');
  });

  test.each([
    ['no event', undefined],
    ['an empty event', {}],
    ['another source', { source: 'custom', 'detail-type': 'Scheduled Event', time: '2026-11-26T10:00:00Z' }],
    ['a malformed time', scheduled('next tuesday')],
    ['a time without a zone', scheduled('2026-11-26T10:00:00')],
    ['a forged far-future time', scheduled('2099-01-01T00:00:00Z')],
    ['a forged far-past time', scheduled('2000-01-01T00:00:00Z')],
    ['a time 6 minutes ahead', scheduled('2026-11-26T10:06:00Z')],
    ['a time 71 minutes behind', scheduled('2026-11-26T08:49:00Z')],
  ])('is the clock for %s', (_what, event) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(sweepInstant(event, clock)).toBe('2026-11-26T10:00:00Z');
    } finally {
      warn.mockRestore();
    }
  });

  test('a refused time is logged with the reason', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      sweepInstant(scheduled('2099-01-01T00:00:00Z'), clock);
      expect(warn).toHaveBeenCalledTimes(1);
      const logged = JSON.parse(warn.mock.calls[0][0] as string);
      expect(logged.instant).toBe('2026-11-26T10:00:00Z');
      expect(logged.refused).toMatch(/2099-01-01T00:00:00Z is \d+s ahead of the clock/);
    } finally {
      warn.mockRestore();
    }
  });
});

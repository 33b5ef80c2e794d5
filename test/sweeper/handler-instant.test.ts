import { sweepInstant } from '../../lib/sweeper/handler';

const clock = () => new Date('2026-11-26T10:00:00.500Z');
const scheduled = (time: unknown) => ({ source: 'aws.events', 'detail-type': 'Scheduled Event', time });

describe('the instant a Lambda sweep judges by', () => {
  test('is the scheduled event time, so a retry decides as the first attempt did', () => {
    expect(sweepInstant(scheduled('2026-12-04T01:00:00Z'), clock)).toBe('2026-12-04T01:00:00Z');
  });

  test.each([
    ['no event', undefined],
    ['an empty event', {}],
    ['another source', { source: 'custom', 'detail-type': 'Scheduled Event', time: '2030-01-01T00:00:00Z' }],
    ['a malformed time', scheduled('next tuesday')],
    ['a time without a zone', scheduled('2026-12-04T01:00:00')],
  ])('is the clock for %s', (_what, event) => {
    expect(sweepInstant(event, clock)).toBe('2026-11-26T10:00:00Z');
  });
});

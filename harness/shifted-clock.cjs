'use strict';
/**
 * Test and demo harness, never shipped: preloaded with `node --require`, it
 * starts this process's clock at the instant in PERMISSION_DECAY_HARNESS_NOW
 * (YYYY-MM-DDTHH:MM:SSZ) and lets it run on from there.
 *
 * The shipped sweeper and CLI judge by the real clock (a person cannot pick
 * the instant of a request or renewal, and the sweeper bounds a scheduled
 * event's time by its clock), so tests and the demo move time here, outside
 * the code under test, instead of through a flag or back door in it.
 */
const text = process.env.PERMISSION_DECAY_HARNESS_NOW;
if (text) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) {
    throw new Error(`PERMISSION_DECAY_HARNESS_NOW="${text}" is not of the form YYYY-MM-DDTHH:MM:SSZ`);
  }
  const RealDate = Date;
  const offset = RealDate.parse(text) - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}

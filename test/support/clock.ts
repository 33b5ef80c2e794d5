/**
 * In-process twin of harness/shifted-clock.cjs, for tests that run the CLI's
 * `main` in this process: while `work` runs, `new Date()` and `Date.now()`
 * start at `instant` and run on from there. The shipped code has no clock
 * flag for request, renew or restore, so tests move time here.
 */
export async function atInstant<T>(instant: string, work: () => Promise<T>): Promise<T> {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(instant)) throw new Error(`atInstant: "${instant}" is not YYYY-MM-DDTHH:MM:SSZ`);
  const RealDate = Date;
  const offset = RealDate.parse(instant) - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string]));
    }
    static now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  try {
    return await work();
  } finally {
    globalThis.Date = RealDate;
  }
}

/** Dependency-free argument parsing for the permission-decay CLI. */

/** Bad usage or bad input: exit code 2, with a message that says what to fix. */
export class UsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'BAD_USAGE') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['json', 'dry-run', 'strict', 'verify', 'help', 'org']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice`);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (eq > 0) {
      flags.set(name, a.slice(eq + 1));
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
      i++;
    }
  }
  return { positional, flags };
}

/** Reads the flags a command knows; rejects any other flag. */
export class Flags {
  constructor(private readonly parsed: ParsedArgs, private readonly command: string) {}
  allow(names: string[]): this {
    const known = new Set([...names, 'json', 'help', 'ledger-table']);
    for (const k of this.parsed.flags.keys()) {
      if (!known.has(k)) throw new UsageError(`${this.command} does not take --${k} (it takes ${[...known].map(n => `--${n}`).join(' ')})`);
    }
    return this;
  }
  bool(name: string): boolean {
    return this.parsed.flags.get(name) === true;
  }
  opt(name: string): string | undefined {
    const v = this.parsed.flags.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  req(name: string, what: string): string {
    const v = this.opt(name);
    if (v === undefined || v === '') throw new UsageError(`${this.command} needs --${name} <${what}>`);
    return v;
  }
}

/** Durations: plain seconds, or a number with s, m, h or d. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} "${text}" is not a duration: use e.g. 3600, 90m, 12h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

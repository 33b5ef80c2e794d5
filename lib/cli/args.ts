/**
 * Argument parsing for the permission-decay CLI: Node's `util.parseArgs` over
 * each command's own option definitions, plus the refusals parseArgs does not
 * make on its own (a flag given twice, a string flag whose value is missing).
 */
import { parseArgs } from 'util';

/** Bad usage or bad input: exit code 2, with a message that says what to fix. */
export class UsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'BAD_USAGE') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/** One flag a command takes, with the words its help prints. */
export interface OptionSpec {
  /** `string` flags take a value; `boolean` flags take none. */
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in help, e.g. `R` or `FILE` (string flags). */
  readonly value?: string;
  /** One line: what the flag does. */
  readonly description: string;
  /** A one-letter alias (only `-h` today). */
  readonly short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Flags every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  json: { type: 'boolean', description: 'print JSON instead of text (errors too: {"error": {code, message}})' },
  'ledger-table': { type: 'string', value: 'TABLE', description: 'the ledger table (default $PERMISSION_DECAY_LEDGER_TABLE)' },
  region: { type: 'string', value: 'REGION', description: "the AWS region (default $AWS_REGION, then your AWS profile's)" },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** What parsing a command's arguments gives. */
export interface ParsedCommandArgs {
  readonly values: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` (the words after the command's name) against the command's
 * options and the global ones. Every refusal is a UsageError naming the flag.
 */
export function parseCommandArgs(command: string, args: readonly string[], options: OptionSpecs): ParsedCommandArgs {
  const known: OptionSpecs = { ...options, ...GLOBAL_OPTIONS };
  const config = Object.fromEntries(
    Object.entries(known).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  const takes = () =>
    Object.keys(known)
      .map(n => `--${n}`)
      .join(' ');
  // A lenient pass first, for refusals in our own words; then the strict pass is the authority.
  const { tokens } = parseArgs({ args: [...args], options: config, strict: false, allowPositionals: true, tokens: true });
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = known[t.name];
    if (!spec) throw new UsageError(`${command} does not take ${t.rawName} (it takes ${takes()})`);
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice`);
    seen.add(t.name);
    if (spec.type === 'boolean' && t.value !== undefined) throw new UsageError(`--${t.name} takes no value`);
    // parseArgs would take the next flag as the value ("--role --json"); a value starting with -- must be written --role=--x.
    if (spec.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('--')))) {
      throw new UsageError(`--${t.name} needs a value (${spec.value ?? 'value'}: ${spec.description})`);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
  const values = new Map<string, string | true>();
  for (const [name, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string') values.set(name, v);
    else if (v === true) values.set(name, true);
  }
  return { values, positionals: parsed.positionals };
}

/** Reads the flags a command was given (already checked against its options). */
export class Flags {
  constructor(
    private readonly values: ReadonlyMap<string, string | true>,
    private readonly command: string,
  ) {}
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
  opt(name: string): string | undefined {
    const v = this.values.get(name);
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

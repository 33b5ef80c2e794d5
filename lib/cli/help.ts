/** The CLI's help texts: the global overview and each command's own page. */
import * as fs from 'fs';
import * as path from 'path';
import { GLOBAL_OPTIONS, OptionSpecs } from './args';

/** What help needs to know about a command. */
export interface CommandHelp {
  /** One line: what the command does. */
  readonly summary: string;
  /** The command's own flags. */
  readonly options: OptionSpecs;
  /** Command lines a person can copy, at least one. */
  readonly examples: readonly string[];
  /** More lines printed under the summary (who acts, what is changed). @default none */
  readonly details?: readonly string[];
}

const NOTATION =
  'R: a role name or an agent id. T: an ISO-8601 instant with a zone, e.g. 2026-12-31T00:00:00Z. ' + 'D: 3600, 90m, 12h or 7d.';

function optionLines(options: OptionSpecs): string[] {
  const left = Object.entries(options).map(([name, o]) => (o.short ? `-${o.short}, ` : '') + `--${name}` + (o.value ? ` ${o.value}` : ''));
  const width = Math.max(...left.map(l => l.length));
  return Object.values(options).map((o, i) => `  ${left[i].padEnd(width)}  ${o.description}`);
}

/** `permission-decay <name> --help`. */
export function commandHelp(name: string, command: CommandHelp): string {
  const usage = Object.entries(command.options)
    .map(([n, o]) => `[--${n}${o.value ? ` ${o.value}` : ''}]`)
    .join(' ');
  return [
    `permission-decay ${name}: ${command.summary}`,
    ...(command.details ?? []).map(d => `  ${d}`),
    '',
    `Usage: permission-decay ${name}${usage ? ' ' + usage : ''}`,
    '',
    ...(Object.keys(command.options).length ? ['Options:', ...optionLines(command.options), ''] : []),
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `Example${command.examples.length > 1 ? 's' : ''}:`,
    ...command.examples.map(e => `  ${e}`),
    '',
    NOTATION,
    '',
  ].join('\n');
}

/** `permission-decay --help`: every command with its summary. */
export function globalHelp(commands: Readonly<Record<string, CommandHelp>>): string {
  const width = Math.max(...Object.keys(commands).map(n => n.length));
  return [
    'Usage: permission-decay <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '  --version  print the version',
    '',
    "permission-decay <command> --help (or help <command>) shows a command's flags and examples.",
    NOTATION,
    '',
  ].join('\n');
}

/** The version in the package.json of this package (found from this file's folder up: lib/cli or dist/lib/cli). */
export function packageVersion(): string {
  for (let dir = __dirname, i = 0; i < 5; dir = path.dirname(dir), i++) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'permission-decay' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

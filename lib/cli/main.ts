/**
 * The permission-decay CLI. `main(argv, io)` runs one command and returns its
 * exit code: 0 done, 1 the command or sweep failed, 2 bad usage or bad input.
 */
import { ContractError } from '../contract';
import { errorOf } from '../sweeper/errors';
import { Flags, GLOBAL_OPTIONS, OptionSpec, OptionSpecs, parseCommandArgs, UsageError } from './args';
import { awsErrorMessage } from './aws-errors';
import { CliIo, CommandContext } from './context';
import { renew, request, restore } from './grant-commands';
import { CommandHelp, commandHelp, globalHelp, packageVersion } from './help';
import { history } from './history-command';
import { report } from './report-command';
import { requestFromDenial, requests } from './requests-command';
import { activity } from './activity-command';
import { historyInAccount, statusOrg } from './org-commands';
import { ledgerInit, status, sweep } from './sweep-commands';

export type { CliIo } from './context';

/** A command: its help (summary, flags, examples) and what it runs. */
interface Command extends CommandHelp {
  readonly run: (ctx: CommandContext) => Promise<number>;
}

const ROLE: OptionSpec = { type: 'string', value: 'R', description: 'the governed role: its name or its agent id' };
const GRANT: OptionSpec = { type: 'string', value: 'NAME', description: 'the grant (its policy name)' };
const TICKET: OptionSpec = { type: 'string', value: 'K', description: 'the change ticket that justifies it' };
const UNTIL: OptionSpec = { type: 'string', value: 'T', description: "when it ends (within the role's maximum grant duration)" };
const NOW: OptionSpec = { type: 'string', value: 'T', description: 'judge as at this instant (default: now)' };
const WARNING_WINDOW: OptionSpec = { type: 'string', value: 'D', description: 'warn this long before an expiry (default 3d)' };
const DRIFT_PERIOD: OptionSpec = { type: 'string', value: 'D', description: 'hand-added access decays after this long (default 7d)' };
const SIGNING_KEY: OptionSpec = {
  type: 'string',
  value: 'K',
  description: 'the ledger signing key (default $PERMISSION_DECAY_SIGNING_KEY_ID)',
};

// --now only where nothing changes (or for the sweep, which judges by it): who and when a person acts is never a flag.
const COMMANDS: Record<string, Command> = {
  'ledger init': {
    summary: 'create the ledger table (on demand, pk/sk) for sweeps run from the CLI',
    options: {},
    examples: ['permission-decay ledger init --ledger-table permission-decay-ledger'],
    run: ledgerInit,
  },
  sweep: {
    summary: 'revoke expired grants, renew sealed renewals, make drift decay; record every decision in the ledger',
    options: {
      'dry-run': { type: 'boolean', description: 'print the plan; change nothing' },
      strict: { type: 'boolean', description: 'revoke what is not in the approved spec at once' },
      'drift-period': DRIFT_PERIOD,
      'warning-window': WARNING_WINDOW,
      'checkpoint-interval': { type: 'string', value: 'D', description: 'write a checkpoint record per role this often' },
      'event-bus': { type: 'string', value: 'B', description: 'send each decision as an event on this bus (default: the default bus)' },
      'owner-topic-arn': { type: 'string', value: 'ARN', description: 'SNS topic that warns owners; without it nobody is notified' },
      'signing-key': SIGNING_KEY,
      now: NOW,
    },
    examples: [
      'permission-decay sweep --dry-run',
      'permission-decay sweep --owner-topic-arn arn:aws:sns:us-east-1:123456789012:grant-owners',
    ],
    run: sweep,
  },
  status: {
    summary: "every grant's state and why, as a sweep at T reads it (changes nothing)",
    details: [
      "With --org: every governed account of the organisation, read through each account's audit role",
      '(accounts from Organizations ListAccounts, or --accounts), with totals per account and state.',
    ],
    options: {
      role: ROLE,
      'warning-window': WARNING_WINDOW,
      'drift-period': DRIFT_PERIOD,
      now: NOW,
      org: { type: 'boolean', description: 'every governed account of the organisation (from the management account)' },
      accounts: { type: 'string', value: 'A,B', description: 'with --org: only these 12-digit account ids' },
      concurrency: { type: 'string', value: 'N', description: 'with --org: accounts read at once (default 8, at most 64)' },
    },
    examples: [
      'permission-decay status',
      'permission-decay status --role support-bot --now 2026-12-31T00:00:00Z',
      'permission-decay status --org --accounts 111111111111,222222222222',
    ],
    run: ctx => (ctx.flags.bool('org') ? statusOrg(ctx) : status(ctx)),
  },
  request: {
    summary: 'give a role a time-bound grant; you (the STS caller) are the requester',
    details: ['The request is sealed under your aws:userid; the next sweep records it.'],
    options: {
      role: ROLE,
      grant: GRANT,
      'policy-arn': { type: 'string', value: 'ARN', description: 'a managed policy to attach (the grant is its name)' },
      'policy-file': { type: 'string', value: 'FILE', description: 'an IAM policy document to put inline' },
      until: UNTIL,
      ticket: TICKET,
      reason: { type: 'string', value: 'TEXT', description: 'why the agent needs it' },
      'from-denial': {
        type: 'string',
        value: 'ID',
        description: 'grant exactly the refused action on the refused resource of this access request (see requests)',
      },
    },
    examples: [
      'permission-decay request --role support-bot --grant read-tickets --policy-file read-tickets.json ' +
        '--until 2026-12-31T00:00:00Z --ticket OPS-42 --reason "backfill"',
      'permission-decay request --from-denial 3f2a9c0d1b4e5f67 --until 2026-12-31T00:00:00Z --ticket OPS-44 --reason "export"',
    ],
    run: ctx => (ctx.flags.opt('from-denial') !== undefined ? requestFromDenial(ctx) : request(ctx)),
  },
  requests: {
    summary: 'access governed roles were refused (recorded by the activity recorder), to review or grant',
    options: { role: ROLE },
    examples: ['permission-decay requests', 'permission-decay requests --role support-bot --json'],
    run: requests,
  },
  activity: {
    summary: 'what a role used (recorded activity), with the baseline policy or grant that allowed each action then',
    options: {
      role: ROLE,
      since: { type: 'string', value: 'T', description: 'from this instant (default: six months before --until)' },
      until: { type: 'string', value: 'T', description: 'up to this instant (default: now)' },
      writes: { type: 'boolean', description: 'only writes (Write, Permissions management, Tagging)' },
    },
    examples: [
      'permission-decay activity --role support-bot',
      'permission-decay activity --role support-bot --since 2026-06-01T00:00:00Z --until 2026-12-01T00:00:00Z --writes --json',
    ],
    run: activity,
  },
  renew: {
    summary: "seal a renewal of someone else's grant; you (the STS caller) are the approver",
    options: { role: ROLE, grant: GRANT, until: UNTIL, ticket: TICKET },
    examples: ['permission-decay renew --role support-bot --grant read-tickets --until 2027-01-03T00:00:00Z --ticket OPS-43'],
    run: renew,
  },
  restore: {
    summary: 'bring a revoked grant back from the ledger (needs a valid renewal)',
    options: { role: ROLE, grant: GRANT },
    examples: ['permission-decay restore --role support-bot --grant read-tickets'],
    run: restore,
  },
  history: {
    summary: "the ledger's account of a role; --at: what it held then; --verify: check chains and signatures",
    options: {
      role: ROLE,
      at: { type: 'string', value: 'T', description: 'show what the role held at this instant' },
      verify: { type: 'boolean', description: 'check hash chains, signatures, anchors and STATE (every role without --role)' },
      'signing-key': SIGNING_KEY,
      now: NOW,
      account: { type: 'string', value: 'A', description: 'a member account: read its ledger through its audit role' },
    },
    examples: [
      'permission-decay history --role support-bot',
      'permission-decay history --account 111111111111 --role support-bot',
      'permission-decay history --role support-bot --at 2026-12-01T00:00:00Z',
      'permission-decay history --verify --signing-key alias/permission-decay-ledger',
    ],
    run: ctx => (ctx.flags.opt('account') !== undefined ? historyInAccount(ctx) : history(ctx)),
  },
  report: {
    summary: 'the governance report synth wrote (shadow, compliance, stores); --html: a page per agent with its ledger',
    options: {
      assembly: { type: 'string', value: 'DIR', description: 'the cloud assembly (default cdk.out)' },
      agent: { type: 'string', value: 'A', description: 'only this agent' },
      html: { type: 'boolean', description: 'write one offline HTML page: per agent its ledger timeline, delegation graph and stores' },
      out: { type: 'string', value: 'FILE', description: 'where --html writes (default permission-decay-report.html)' },
    },
    examples: [
      'permission-decay report --assembly cdk.out',
      'permission-decay report --agent support-bot --json',
      'permission-decay report --html --out access.html --ledger-table permission-decay-ledger',
    ],
    run: report,
  },
};

/** The command named by the leading words of argv ("ledger init" is two), and the words after it. */
function commandOf(argv: readonly string[]): { name?: string; rest: string[] } {
  // Global string flags may come before the command: skip them with their values.
  const skip = new Set(
    Object.entries(GLOBAL_OPTIONS)
      .filter(([, o]) => o.type === 'string')
      .map(([n]) => `--${n}`),
  );
  const rest = [...argv];
  const before: string[] = [];
  while (rest.length && rest[0].startsWith('-')) {
    const flag = rest.shift()!;
    before.push(flag);
    if (skip.has(flag) && rest.length) before.push(rest.shift()!);
  }
  if (!rest.length) return { rest: before };
  const name = rest[0] === 'ledger' && rest[1] !== undefined && !rest[1].startsWith('-') ? `ledger ${rest[1]}` : rest[0];
  return { name, rest: [...before, ...rest.slice(name.split(' ').length)] };
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  let name: string | undefined;
  try {
    const found = commandOf(argv);
    name = found.name;
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? found.rest.filter(a => !a.startsWith('-')) : [];
      if (topic.length) {
        const wanted = topic[0] === 'ledger' ? topic.slice(0, 2).join(' ') : topic[0];
        if (!COMMANDS[wanted]) {
          throw new UsageError(`no command "${topic.join(' ')}" to help with; commands: ${Object.keys(COMMANDS).join(', ')}`);
        }
        io.stdout(commandHelp(wanted, COMMANDS[wanted]));
        return 0;
      }
      if (argv.includes('--version')) {
        io.stdout(`${packageVersion()}\n`);
        return 0;
      }
      const asked = name === 'help' || argv.includes('--help') || argv.includes('-h');
      (asked ? io.stdout : io.stderr)(globalHelp(COMMANDS));
      return asked ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) {
      throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (permission-decay --help)`);
    }
    if (found.rest.includes('--help') || found.rest.includes('-h')) {
      io.stdout(commandHelp(name, command));
      return 0;
    }
    const parsed = parseCommandArgs(name, found.rest, command.options);
    json = parsed.values.get('json') === true;
    if (parsed.positionals.length) {
      throw new UsageError(`${name} takes no argument "${parsed.positionals[0]}" (permission-decay ${name} --help)`);
    }
    return await command.run(new CommandContext(io, new Flags(parsed.values, name)));
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof ContractError;
    const { code, message } = errorOf(e, usage ? 'BAD_USAGE' : 'FAILED');
    const text = usage ? message : (awsErrorMessage(e, name) ?? message);
    if (json) io.stdout(JSON.stringify({ error: { code, message: text } }, null, 2) + '\n');
    io.stderr(`permission-decay: ${text}\n`);
    return usage ? 2 : 1;
  }
}

/** Every command's name and help (for tests and docs). */
export function commandHelps(): Readonly<Record<string, CommandHelp>> {
  return COMMANDS;
}

export type { OptionSpecs };

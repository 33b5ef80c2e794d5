/**
 * The permission-decay CLI. `main(argv, io)` runs one command and returns its
 * exit code: 0 done, 1 the command or sweep failed, 2 bad usage or bad input.
 */
import { ContractError } from '../private/contract';
import { errorOf } from '../sweeper/errors';
import { Flags, parseArgs, UsageError } from './args';
import { CliIo, CommandContext } from './context';
import { renew, request, restore } from './grant-commands';
import { report } from './report-command';
import { history } from './history-command';
import { historyInAccount, statusOrg } from './org-commands';
import { ledgerInit, status, sweep } from './sweep-commands';

export type { CliIo } from './context';

const USAGE = `Usage: permission-decay <command> [flags]   (every command takes --json; --ledger-table or $PERMISSION_DECAY_LEDGER_TABLE)

  ledger init                          create the ledger table (on demand, pk/sk)
  sweep [--dry-run] [--strict] [--drift-period D] [--warning-window D] [--checkpoint-interval D] [--event-bus B] [--owner-topic-arn ARN] [--signing-key K] [--now T]
  status [--role R] [--warning-window D] [--drift-period D] [--now T]   every grant's state and why, as a sweep at T reads it
  request --role R --grant NAME (--policy-arn ARN | --policy-file F) --until T --ticket K --reason TEXT
                                       you (STS caller) are the requester; the request is sealed under your aws:userid
  renew --role R --grant NAME --until T --ticket K       seal a renewal; you (STS caller) are the approver
  restore --role R --grant NAME                          bring a revoked grant back (needs a valid renewal)
  history [--role R] [--at T] [--verify [--signing-key K]]
                                       the ledger's account of a role; --verify checks chains, signatures (key K or
                                       $PERMISSION_DECAY_SIGNING_KEY_ID), anchors and STATE (every role without --role)
  status --org [--accounts A,B] [--concurrency N] [--now T]   every governed account's grants and totals, read through each
                                       account's audit role (accounts from Organizations ListAccounts, or --accounts)
  history --account A --role R [--at T] [--verify]       a role's history in member account A, through its audit role
  report [--assembly DIR] [--agent A]                    the governance report synth wrote (shadow, compliance, stores); DIR default cdk.out

  R: a role name or an agent id. T: an ISO-8601 instant with a zone, e.g. 2026-12-31T00:00:00Z. D: 3600, 90m, 12h, 7d.
`;

interface Command {
  readonly flags: string[];
  readonly run: (ctx: CommandContext) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  'ledger init': { flags: [], run: ledgerInit },
  // --now only where nothing changes (or for the sweep, which judges by it): who and when a person acts is never a flag.
  'sweep': { flags: ['dry-run', 'strict', 'drift-period', 'warning-window', 'checkpoint-interval', 'event-bus', 'owner-topic-arn', 'signing-key', 'now'],
    run: sweep },
  'status': { flags: ['role', 'warning-window', 'drift-period', 'now', 'org', 'accounts', 'concurrency'],
    run: ctx => (ctx.flags.bool('org') ? statusOrg(ctx) : status(ctx)) },
  'request': { flags: ['role', 'grant', 'policy-arn', 'policy-file', 'until', 'ticket', 'reason'], run: request },
  'renew': { flags: ['role', 'grant', 'until', 'ticket'], run: renew },
  'restore': { flags: ['role', 'grant'], run: restore },
  'history': { flags: ['role', 'at', 'verify', 'signing-key', 'now', 'account'],
    run: ctx => (ctx.flags.opt('account') !== undefined ? historyInAccount(ctx) : history(ctx)) },
  'report': { flags: ['assembly', 'agent'], run: report },
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  try {
    const parsed = parseArgs(argv);
    json = parsed.flags.get('json') === true;
    const name = parsed.positional[0] === 'ledger' ? parsed.positional.slice(0, 2).join(' ') : parsed.positional[0];
    if (!name || parsed.flags.get('help') === true) {
      io.stdout(USAGE);
      return name || parsed.flags.get('help') === true ? 0 : 2;
    }
    const command = COMMANDS[name];
    const extra = parsed.positional.slice(name.split(' ').length);
    if (!command) throw new UsageError(`unknown command "${parsed.positional.join(' ')}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    if (extra.length) throw new UsageError(`${name} takes no argument "${extra[0]}"`);
    const flags = new Flags(parsed, name).allow(command.flags);
    return await command.run(new CommandContext(io, flags));
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof ContractError;
    const { code, message } = errorOf(e, usage ? 'BAD_USAGE' : 'FAILED');
    if (json) io.stdout(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
    io.stderr(`permission-decay: ${message}\n`);
    return usage ? 2 : 1;
  }
}

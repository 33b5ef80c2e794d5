/**
 * The organisation-wide views: `status --org` and `history --account A`.
 *
 * Run in the central account as its org-view role. Each member account is
 * read through its read-only audit role (STS AssumeRole), with one account
 * snapshot per account (never a call per role), a bounded number of accounts
 * at once, and one account's failure reported beside the others' results.
 */
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { DEFAULT_DRIFT_PERIOD_SECONDS, DEFAULT_WARNING_WINDOW_SECONDS, formatExpiry, LEDGER_TABLE_ENV } from '../contract';
import { auditRoleArn, MEMBER_LEDGER_TABLE_NAME } from '../private/organization-contract';
import { AwsClients, ClientSettings, createClients } from '../sweeper/aws-clients';
import { decide, DecideOptions, renewalKeysNeeded } from '../sweeper/decide';
import { errorOf } from '../sweeper/errors';
import { readLedgerState } from '../sweeper/ledger';
import { readRenewals } from '../sweeper/renewal';
import { readSnapshot } from '../sweeper/snapshot';
import { readSpecs } from '../sweeper/specs';
import { parseDuration, UsageError } from './args';
import { CommandContext } from './context';
import { history } from './history-command';
import { renderTable } from './render';
import { grantStatuses, GrantStatus } from './sweep-commands';

/** Accounts read at once: enough to hide STS and IAM latency, few enough to stay clear of IAM's per-account rate. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 8;
const ACCOUNT_ID = /^\d{12}$/;
const AUDIT_SESSION_NAME = 'permission-decay-org-view';

/** One account to read, as Organizations (or --accounts) names it. */
export interface OrgAccount {
  readonly account: string;
  readonly name?: string;
}

/** Why an account could not be read, for a person to act on. */
export interface AccountFailure {
  readonly code: string;
  readonly message: string;
}

/** The outcome of one account's read: a value, or the failure that stopped it. */
export type AccountOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AccountFailure };

/** What reading one account gave (the other accounts go on whatever it was). */
export type AccountReading<T> = OrgAccount & AccountOutcome<T>;

/**
 * Reads every account with at most `limit` at once. A failing account (an
 * outcome that says so, or anything thrown) becomes a reading with its error;
 * it never stops the others.
 */
export async function readAccounts<T>(
  accounts: readonly OrgAccount[],
  limit: number,
  read: (account: OrgAccount) => Promise<AccountOutcome<T>>,
): Promise<AccountReading<T>[]> {
  const out = new Array<AccountReading<T>>(accounts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const i = next++;
      const a = accounts[i];
      try {
        out[i] = { ...a, ...(await read(a)) };
      } catch (e) {
        const { code, message } = errorOf(e, 'ACCOUNT_FAILED');
        out[i] = { ...a, ok: false, error: { code, message } };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, accounts.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

/** --accounts (comma-separated ids), else every ACTIVE account Organizations lists to the caller. */
export async function orgAccounts(ctx: CommandContext): Promise<OrgAccount[]> {
  const listed = ctx.flags.opt('accounts');
  if (listed !== undefined) {
    const ids = [
      ...new Set(
        listed
          .split(',')
          .map(a => a.trim())
          .filter(Boolean),
      ),
    ];
    const bad = ids.filter(a => !ACCOUNT_ID.test(a));
    if (ids.length === 0 || bad.length > 0) {
      const which = bad.length ? ` (not ids: ${bad.join(', ')})` : '';
      throw new UsageError(`--accounts "${listed}": give 12-digit account ids separated by commas${which}`);
    }
    return ids.map(account => ({ account }));
  }
  const settings = ctx.io.clientSettings ?? {};
  // Organizations answers in us-east-1 whatever region the rest of the CLI uses.
  const org = new OrganizationsClient({ ...settingsConfig(settings), region: 'us-east-1' });
  const accounts: OrgAccount[] = [];
  let token: string | undefined;
  do {
    const page = await org.send(new ListAccountsCommand({ NextToken: token }));
    for (const a of page.Accounts ?? []) {
      if (a.Id && (a.Status === undefined || a.Status === 'ACTIVE')) accounts.push({ account: a.Id, name: a.Name });
    }
    token = page.NextToken;
  } while (token);
  return accounts;
}

function settingsConfig(settings: ClientSettings) {
  return {
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  };
}

/** Client settings acting as the audit role of `account` (one STS AssumeRole), or why it cannot be assumed. */
export async function auditSettings(ctx: CommandContext, account: string, partition = 'aws'): Promise<AccountOutcome<ClientSettings>> {
  const roleArn = auditRoleArn(account, partition);
  const unavailable = (why: string): AccountOutcome<ClientSettings> => ({
    ok: false,
    error: {
      code: 'AUDIT_ROLE_UNAVAILABLE',
      message:
        `cannot assume ${roleArn} (${why}): is the account governed by the StackSet, ` + "and are you the central account's org-view role?",
    },
  });
  let c;
  try {
    const assume = new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: AUDIT_SESSION_NAME, DurationSeconds: 900 });
    const r = await ctx.clients.sts.send(assume);
    c = r.Credentials;
  } catch (e) {
    return unavailable(errorOf(e).message);
  }
  if (!c?.AccessKeyId || !c.SecretAccessKey) return unavailable('STS returned no credentials');
  return {
    ok: true,
    value: {
      ...ctx.io.clientSettings,
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    },
  };
}

/** The caller's partition (aws, aws-cn, aws-us-gov), read once: the audit roles' ARNs are in it. */
async function callerPartition(ctx: CommandContext): Promise<string> {
  return (await ctx.caller()).arn.split(':')[1] || 'aws';
}

/** Every grant's state in one account, as `status` reads it: one snapshot, the specs, the ledger, the sweep's plan. */
export async function accountGrantStatuses(clients: AwsClients, table: string, now: Date, options: DecideOptions): Promise<GrantStatus[]> {
  const [snapshot, specs, ledgerState] = await Promise.all([
    readSnapshot(clients.iam),
    readSpecs(clients.ssm),
    readLedgerState(clients.ddb, table),
  ]);
  const clock = { now };
  const renewals = await readRenewals(clients.ddb, table, renewalKeysNeeded(snapshot, ledgerState, specs, clock, options));
  const plan = decide(snapshot, ledgerState, specs, renewals, clock, options);
  return grantStatuses(snapshot, ledgerState, specs, plan, now, options);
}

/** Counts of `key` over `items`, keys sorted. */
function totalsOf<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * `status --org`: every grant of every governed account, with totals per
 * account and state. Exit 1 when an account could not be read (after
 * reporting every account).
 */
export async function statusOrg(ctx: CommandContext): Promise<number> {
  const now = ctx.now();
  const f = ctx.flags;
  if (f.opt('role') !== undefined) {
    throw new UsageError('status --org reads every role: leave out --role (or use history --account A --role R)');
  }
  const duration = (flag: string, fallback: number) => (f.opt(flag) !== undefined ? parseDuration(f.opt(flag)!, flag) : fallback);
  const options: DecideOptions = {
    strict: false,
    driftPeriodSeconds: duration('drift-period', DEFAULT_DRIFT_PERIOD_SECONDS),
    warningWindowSeconds: duration('warning-window', DEFAULT_WARNING_WINDOW_SECONDS),
  };
  const limit = f.opt('concurrency') !== undefined ? Number(f.opt('concurrency')) : DEFAULT_ACCOUNT_CONCURRENCY;
  if (!Number.isInteger(limit) || limit < 1 || limit > 64) {
    throw new UsageError(`--concurrency "${f.opt('concurrency')}": a whole number from 1 to 64`);
  }
  const table = f.opt('ledger-table') ?? MEMBER_LEDGER_TABLE_NAME;
  const accounts = await orgAccounts(ctx);
  const partition = await callerPartition(ctx);
  const readings = await readAccounts(accounts, limit, async (a): Promise<AccountOutcome<GrantStatus[]>> => {
    const settings = await auditSettings(ctx, a.account, partition);
    if (!settings.ok) return settings;
    return { ok: true, value: await accountGrantStatuses(createClients(settings.value), table, now, options) };
  });

  const rows = readings.flatMap(r => (r.ok ? r.value.map(g => ({ account: r.account, ...g })) : []));
  const failed = readings.filter(r => !r.ok);
  if (ctx.json) {
    ctx.outJson({
      at: formatExpiry(now),
      accounts: readings.map(r =>
        r.ok
          ? { account: r.account, name: r.name, ok: true, totals: totalsOf(r.value, g => g.state), grants: r.value }
          : { account: r.account, name: r.name, ok: false, error: r.error },
      ),
      totals: totalsOf(rows, g => g.state),
      failedAccounts: failed.length,
    });
  } else {
    ctx.out(
      rows.length
        ? renderTable(
            ['ACCOUNT', 'ROLE', 'GRANT', 'EXPIRES', 'LEFT', 'STATE', 'REQUESTED BY', 'TICKET', 'WHY'],
            rows.map(g => [g.account, g.roleName, g.grant, g.expiresAt, g.timeLeft, g.state, g.requestedBy, g.ticket, g.reason]),
          )
        : 'No grants on governed roles in any account read.',
    );
    const states = [...new Set(rows.map(g => g.state))].sort();
    ctx.out(
      '\n' +
        renderTable(
          ['ACCOUNT', 'NAME', 'READ', ...states.map(s => s.toUpperCase()), 'TOTAL'],
          readings.map(r => {
            if (!r.ok) return [r.account, r.name, `failed: ${r.error.code}`, ...states.map(() => undefined), undefined];
            const t = totalsOf(r.value, g => g.state);
            return [r.account, r.name, 'ok', ...states.map(s => t[s] ?? 0), r.value.length];
          }),
        ),
    );
    for (const r of failed) if (!r.ok) ctx.io.stderr(`permission-decay: account ${r.account}: ${r.error.code}: ${r.error.message}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** `history --account A --role R`: the history command, acting as the audit role of account A on its ledger. */
export async function historyInAccount(ctx: CommandContext): Promise<number> {
  const account = ctx.flags.req('account', '12-digit account id');
  if (!ACCOUNT_ID.test(account)) throw new UsageError(`--account "${account}" is not a 12-digit account id`);
  const settings = await auditSettings(ctx, account, await callerPartition(ctx));
  if (!settings.ok) {
    if (ctx.json) ctx.outJson({ error: { ...settings.error, account } });
    ctx.io.stderr(`permission-decay: account ${account}: ${settings.error.message}\n`);
    return 1;
  }
  const env = { ...ctx.io.env, [LEDGER_TABLE_ENV]: ctx.flags.opt('ledger-table') ?? MEMBER_LEDGER_TABLE_NAME };
  return history(new CommandContext({ ...ctx.io, env, clientSettings: settings.value }, ctx.flags));
}

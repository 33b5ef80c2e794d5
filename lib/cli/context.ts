/** What every command gets: the clients, the ledger table, the clock and the output. */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CallerIdentity, IDENTITY_ENV, LEDGER_TABLE_ENV, normalizeInstant, parseExpiry } from '../contract';
import { AwsClients, ClientSettings, createClients } from '../sweeper/aws-clients';
import { resolveRoleName } from '../sweeper/snapshot';
import { Flags, UsageError } from './args';
import { withNamedCalls } from './aws-errors';

/** Where the CLI writes, and what it runs against. Tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Client settings (tests: the emulator endpoint and credentials). @default the SDK's standard chains */
  readonly clientSettings?: ClientSettings;
}

export class CommandContext {
  private _clients?: AwsClients;
  private _caller?: CallerIdentity;
  constructor(
    readonly io: CliIo,
    readonly flags: Flags,
  ) {}

  get clients(): AwsClients {
    const region = this.flags.opt('region');
    // Every client notes the call and endpoint on its errors, so the CLI can name them.
    this._clients ??= withNamedCalls(createClients({ ...this.io.clientSettings, ...(region ? { region } : {}) }));
    return this._clients;
  }
  get json(): boolean {
    return this.flags.bool('json');
  }
  /** The ledger signing key: --signing-key, else the environment the deployed sweeper also reads. */
  signingKeyId(): string | undefined {
    return this.flags.opt('signing-key') ?? (this.io.env[IDENTITY_ENV.signingKeyId] || undefined);
  }
  ledgerTable(): string {
    const t = this.flags.opt('ledger-table') ?? this.io.env[LEDGER_TABLE_ENV];
    if (!t) throw new UsageError(`name the ledger table with --ledger-table or ${LEDGER_TABLE_ENV}`);
    return t;
  }
  /** The current second. The commands that change access (request, renew, restore) act at the real time only. */
  clock(): Date {
    return new Date(Math.floor(Date.now() / 1000) * 1000);
  }
  /** --now (read-only and dry-run commands), or the current second. */
  now(): Date {
    const n = this.flags.opt('now');
    if (n === undefined) return new Date(Math.floor(Date.now() / 1000) * 1000);
    try {
      return parseExpiry(normalizeInstant(n, '--now'));
    } catch (e) {
      throw new UsageError((e as Error).message, 'BAD_INSTANT');
    }
  }
  instant(flag: string, what: string): string {
    try {
      return normalizeInstant(this.flags.req(flag, what), `--${flag}`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError((e as Error).message, 'BAD_INSTANT');
    }
  }
  /** The caller's identity ARN (STS GetCallerIdentity). */
  async callerArn(): Promise<string> {
    return (await this.caller()).arn;
  }
  /** The caller as STS GetCallerIdentity answers: the only source of who requests, approves or restores. */
  async caller(): Promise<CallerIdentity> {
    if (!this._caller) {
      const r = await this.clients.sts.send(new GetCallerIdentityCommand({}));
      if (!r.Arn || !r.UserId || !r.Account)
        throw new UsageError('STS GetCallerIdentity did not say who you are: check your AWS credentials', 'NO_IDENTITY');
      this._caller = { arn: r.Arn, userId: r.UserId, account: r.Account };
    }
    return this._caller;
  }
  /** --role as a role name or an agent id. */
  async role(): Promise<string> {
    const r = this.flags.req('role', 'role name or agent id');
    const name = await resolveRoleName(this.clients.iam, r);
    if (!name) throw new UsageError(`no governed role is named "${r}" or tagged as agent "${r}"`, 'NO_SUCH_ROLE');
    return name;
  }
  out(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : text + '\n');
  }
  outJson(value: unknown): void {
    this.io.stdout(JSON.stringify(value, null, 2) + '\n');
  }
}

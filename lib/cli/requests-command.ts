/**
 * requests, request --from-denial: access a governed role was refused (as the
 * activity recorder surfaced it), and turning one refusal into a time-bound
 * grant for exactly that action on exactly that resource.
 *
 * The grant goes through the ordinary request path (sealed intent under the
 * caller's aws:userid, then the IAM change as an intent step); the sweeper
 * records it at its next sweep like any other request.
 */
import { AccessRequestItem } from '../contract/activity';
import { GRANT_NAME_MAX_LENGTH, PolicyDocumentJson } from '../contract';
import { readAccessRequest, readAccessRequests } from '../sweeper/activity/reader';
import { readRole } from '../sweeper/snapshot';
import { UsageError } from './args';
import { CommandContext } from './context';
import { requestGrant } from './grant-commands';
import { renderTable } from './render';

/** What `requests --json` prints per request: the item without its keys and bookkeeping. */
function shown(r: AccessRequestItem) {
  const { pk: _pk, sk: _sk, contributions: _c, version: _v, ...rest } = r as AccessRequestItem & { version?: number };
  return rest;
}

export async function requests(ctx: CommandContext): Promise<number> {
  const roleName = ctx.flags.opt('role') !== undefined ? await ctx.role() : undefined;
  const items = await readAccessRequests(ctx.clients.ddb, ctx.ledgerTable(), roleName);
  if (ctx.json) {
    ctx.outJson({ requests: items.map(shown) });
    return 0;
  }
  if (!items.length) {
    ctx.out(roleName ? `No access requests for ${roleName}.` : 'No access requests.');
    return 0;
  }
  ctx.out(
    renderTable(
      ['id', 'role', 'day', 'action', 'resource', 'error', 'count', 'last seen'],
      items.map(r => [r.id, r.roleName, r.day, r.action, r.resource, r.errorCode, r.count, r.lastSeenAt]),
    ),
  );
  ctx.out('Grant one: permission-decay request --from-denial <id> --until <instant> --ticket <ticket> --reason <text>');
  return 0;
}

/** The grant name of a denial's grant: `denied-<id>` (the id is 16 hex, so the name is always valid). */
export function denialGrantName(id: string): string {
  return `denied-${id}`.slice(0, GRANT_NAME_MAX_LENGTH);
}

/** One statement: the refused action on the refused resource, nothing wider. */
export function denialDocument(r: Pick<AccessRequestItem, 'action' | 'resource'>): PolicyDocumentJson {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: r.action, Resource: r.resource }] };
}

export async function requestFromDenial(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const id = f.req('from-denial', 'access request id');
  for (const conflicting of ['policy-arn', 'policy-file'])
    if (f.opt(conflicting) !== undefined)
      throw new UsageError(`--from-denial makes its own policy (the refused action on the refused resource); drop --${conflicting}`);
  if (!/^[0-9a-f]{16}$/.test(id))
    throw new UsageError(`--from-denial ${id} is not an access request id (16 hex digits, as "permission-decay requests" lists them)`);
  const until = ctx.instant('until', 'instant');
  const ticket = f.req('ticket', 'ticket');
  const reason = f.req('reason', 'text');
  const roleFilter = f.opt('role') !== undefined ? await ctx.role() : undefined;
  const denial = await readAccessRequest(ctx.clients.ddb, ctx.ledgerTable(), id, roleFilter);
  if (!denial)
    throw new UsageError(
      `no access request ${id}${roleFilter ? ` for ${roleFilter}` : ''}: list them with "permission-decay requests"`,
      'NO_SUCH_REQUEST',
    );
  // A truncated resource is not the resource that was refused: granting its prefix would grant something else.
  if (denial.resourceTruncated)
    throw new UsageError(
      `access request ${id} names a resource longer than the recorder keeps; write the policy yourself and use --policy-file`,
      'RESOURCE_TRUNCATED',
    );
  const role = await readRole(ctx.clients.iam, denial.roleName);
  if (!role) throw new UsageError(`role ${denial.roleName} of access request ${id} is no longer governed`, 'NO_SUCH_ROLE');
  const grant = f.opt('grant') ?? denialGrantName(id);
  return requestGrant(ctx, role, {
    grant,
    doc: denialDocument(denial),
    until,
    ticket,
    reason,
    pointerExtra: { fromDenial: id, deniedAction: denial.action, deniedResource: denial.resource },
  });
}

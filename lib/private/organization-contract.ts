/**
 * The names an organisation's governance shares between the management
 * account (GovernedOrganization), every member account (the StackSet's member
 * template) and the CLI's `--org` views. Each is spelled here only.
 *
 * Member resources have fixed names because the CLI and GovernedAgentRole find
 * them in any member account without a reference across accounts.
 */
import { SWEEPER_ROLE_PATH } from '../contract';

/** The ledger table of a member account (starts with the ledger prefix, so every governed boundary denies writing it). */
export const MEMBER_LEDGER_TABLE_NAME = 'permission-decay-ledger-org';

/** The shared boundary of a member account's governed roles. */
export const MEMBER_BOUNDARY_NAME = 'permission-decay-boundary';
/** Its path: under the permission-decay root, like every governance resource. */
export const MEMBER_BOUNDARY_PATH = '/permission-decay/';

/** The bus in each member account that receives its sweeper's decision events and forwards them to the central bus. */
export const MEMBER_DECISION_BUS_NAME = 'permission-decay-decisions';

/**
 * The read-only audit role in each member account. Under the permission-decay
 * root path: a governed agent's boundary denies assuming or changing any role
 * there (without the delegation session tags, which its trust never allows).
 */
export const AUDIT_ROLE_NAME = 'permission-decay-audit';
export const AUDIT_ROLE_PATH = '/permission-decay/audit/';

/** The role in the central account that people assume to read every member account (it assumes the audit roles). */
export const ORG_VIEW_ROLE_NAME = 'permission-decay-org-view';
export const ORG_VIEW_ROLE_PATH = '/permission-decay/org-view/';

/** The central bus in the management (or delegated administrator) account. */
export const CENTRAL_DECISION_BUS_NAME = 'permission-decay-org-decisions';

/** Only roles under this path may put events on the central bus: the member sweepers and their forwarding roles. */
export const CENTRAL_BUS_WRITER_PATH = SWEEPER_ROLE_PATH;

/** The ARN of the audit role in `account` (the CLI assumes it). */
export function auditRoleArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role${AUDIT_ROLE_PATH}${AUDIT_ROLE_NAME}`;
}

/** The ARN of the org-view role in the central account. */
export function orgViewRoleArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role${ORG_VIEW_ROLE_PATH}${ORG_VIEW_ROLE_NAME}`;
}

/** Governance events (EventBridge). */

/** Source of every governance event. */
export const EVENT_SOURCE = 'permission-decay';
/** detail-type of decision events; the detail is the LedgerRecord without pk/sk. */
export const EVENT_DETAIL_TYPE = 'Permission Decay Decision';

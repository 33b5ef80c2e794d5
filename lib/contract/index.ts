/**
 * The governance contract: tag schema, expiry format, policy JSON, approved
 * spec, ledger schema and hash chain, checkpoints, events and the sweeper's
 * environment. The construct (synth time), the sweeper (run time) and the CLI
 * all import it; it imports nothing but node's crypto. Nothing else spells a
 * tag key, parses an expiry or shapes a ledger record. README "The contract"
 * documents the same rules for users.
 */
export * from './errors';
export * from './tags';
export * from './delegation';
export * from './expiry';
export * from './grant-tag';
export * from './policy';
export * from './spec';
export * from './ledger-schema';
export * from './ledger-chain';
export * from './state';
export * from './checkpoint';
export * from './seals';
export * from './events';
export * from './environment';

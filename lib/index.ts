// The public API of permission-decay. Everything not exported here is internal.
export * from './permission-sweeper';
export * from './governed-agent-role';
export * from './temporary-grant';
export * from './compliance';
export * from './governed-organization';

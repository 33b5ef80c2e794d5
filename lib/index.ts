// The public API of permission-decay. Everything not exported here is internal.
export * from './permission-sweeper';
export { decide } from './sweeper/decide';
export { runSweep } from './sweeper/sweep';
export { main as permissionDecayCli } from './cli/main';

/** Builds a stack with a PermissionSweeper for the construct tests. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PermissionSweeper, PermissionSweeperProps } from '../../lib/permission-sweeper';

const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'handlers', 'sweeper', 'index.js');
/** The activity recorder's bundle (PermissionSweeper deploys it by default) and its access-level table. */
const activityBundles = ['index.js', 'access-levels.json'].map(f => path.join(root, 'dist', 'handlers', 'activity', f));

/**
 * The construct loads the sweeper handler that `npm run build` bundles. Bundle
 * it here when the source exists but the bundle does not (esbuild only, no tsc).
 */
export function ensureSweeperHandlerBundle(): void {
  if (fs.existsSync(bundle) && activityBundles.every(f => fs.existsSync(f))) return;
  if (!fs.existsSync(path.join(root, 'lib', 'sweeper', 'handler.ts'))) {
    throw new Error(
      `${bundle} is missing and so is lib/sweeper/handler.ts: the sweeper handler must exist and be bundled (npm run build) before these tests can synthesize the PermissionSweeper`,
    );
  }
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle-handlers.js')], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0 || !fs.existsSync(bundle)) {
    throw new Error(`bundling the sweeper handler failed: ${run.stderr || run.stdout}`);
  }
}

export interface SweeperFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly sweeper: PermissionSweeper;
  /** Synthesizes on first use, so a test may still add to the tree before reading it. */
  readonly template: Template;
}

export function sweeperStack(props: PermissionSweeperProps = {}, build?: (stack: Stack) => PermissionSweeperProps): SweeperFixture {
  ensureSweeperHandlerBundle();
  const app = new App();
  const stack = new Stack(app, 'Governance', { env: { account: '123456789012', region: 'eu-west-1' } });
  const sweeper = new PermissionSweeper(stack, 'Sweeper', { ...props, ...(build ? build(stack) : {}) });
  let template: Template | undefined;
  return {
    app,
    stack,
    sweeper,
    get template() {
      return (template ??= Template.fromStack(stack));
    },
  };
}

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PermissionSweeper } from '../../lib/permission-sweeper';
import { ensureSweeperHandlerBundle, sweeperStack } from './sweeper-fixture';

describe('PermissionSweeper compliance', () => {
  test('cdk-nag AwsSolutions passes, in an environment-specific stack', () => {
    const { stack } = sweeperStack();
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('cdk-nag AwsSolutions passes, in an environment-agnostic stack', () => {
    ensureSweeperHandlerBundle();
    const stack = new Stack(new App(), 'Agnostic');
    new PermissionSweeper(stack, 'Sweeper');
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const { stack } = sweeperStack();
    const acks = stack.node
      .findAll()
      .flatMap(c =>
        c.node.metadata
          .filter(m => m.type === 'aws:cdk:acknowledged-rules')
          .flatMap(m => Object.entries(m.data as Record<string, unknown>)),
      );
    expect(acks.length).toBeGreaterThanOrEqual(7);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/AwsSolutions-/);
      // A reason a reviewer can check, not a placeholder.
      expect({ id, reason }).toEqual({ id, reason: expect.stringMatching(/^.{40,}$/) });
    }
  });

  test('the synthesized template passes cfn-lint with no errors', () => {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error('cfn-lint is not on PATH: run scripts/install-emulator.sh (installs cfn-lint 1.51.0)');
    }
    const { template } = sweeperStack();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweeper-cfn-lint-'));
    try {
      const file = path.join(dir, 'template.json');
      fs.writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));
      // Errors only (warnings such as CDK's redundant DependsOn are not failures).
      const run = spawnSync('cfn-lint', ['--format', 'parseable', '--non-zero-exit-code', 'error', file], { encoding: 'utf8' });
      expect(run.error).toBeUndefined();
      const errors = run.stdout.split('\n').filter(line => /:E\d{4}:/.test(line));
      expect(errors).toEqual([]);
      expect(run.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildExampleApp, EXAMPLE_GRANTS, EXAMPLE_NOW } from '../../bin/example-app';
import { MANAGED_BY_VALUE, specParameterName, TAG_MANAGED_BY } from '../../lib/contract';
import { roleTags } from '../support/simulate';

/** Roles of a template tagged as governed (the example may hold other roles, e.g. the sweeper's). */
function governedRoles(template: { [key: string]: any }): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template.Resources as Record<string, { Type: string }>).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && roleTags(template, id)[TAG_MANAGED_BY] === MANAGED_BY_VALUE,
    ),
  );
}

function cfnLintAvailable(): boolean {
  return spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
}

describe('the example app', () => {
  test('synthesizes two agents with baselines, grants and specs', () => {
    const { stack, supportBot, opsBot } = buildExampleApp(new App());
    const template = Template.fromStack(stack);
    expect(Object.keys(governedRoles(template.toJSON()))).toHaveLength(2);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    for (const agent of [supportBot, opsBot]) {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: specParameterName(agent.agentId), Type: 'String' });
    }
    const json = template.toJSON();
    const support = roleTags(json, stack.getLogicalId(supportBot.role.node.defaultChild as any));
    expect(support[`governance:grant:${EXAMPLE_GRANTS.supportBot.customerDbRead.name}`]).toBe(
      `expires=${EXAMPLE_GRANTS.supportBot.customerDbRead.expiresAt} by=alice@example.com ticket=SEC-1234`,
    );
    const governed = Object.keys(governedRoles(template.toJSON()));
    const policyNames = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter(p => (p.Properties.Roles as { Ref?: string }[]).some(r => governed.includes(r.Ref ?? '')))
      .map(p => p.Properties.PolicyName)
      .sort();
    expect(policyNames).toEqual([
      'baseline',
      'baseline',
      'customer-db-read',
      'incident-logs-write',
      'refund-status-write',
      'runbooks-write',
    ]);
  });

  test('synthesizes with a chosen clock, and refuses a clock after a grant expired', () => {
    expect(() => Template.fromStack(buildExampleApp(new App(), { now: '2027-01-02T12:00:00Z' }).stack)).not.toThrow();
    expect(() => buildExampleApp(new App(), { now: '2027-01-04T00:00:00Z' })).toThrow(
      /'ops-bot' grant 'incident-logs-write': expiresAt 2027-01-03T00:00:00Z is not after now .*: renew or remove it/,
    );
    expect(() => buildExampleApp(new App({ context: { 'permission-decay:now': '2027-01-04T00:00:00Z' } }))).toThrow(/renew or remove it/);
    expect(EXAMPLE_NOW).toBe('2027-01-01T00:00:00Z');
  });

  test('passes cfn-lint with no errors', () => {
    if (!cfnLintAvailable()) {
      throw new Error('cfn-lint is not on PATH: install it (pip install cfn-lint) to run this test');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'permission-decay-lint-'));
    const file = path.join(dir, 'example.template.json');
    fs.writeFileSync(file, JSON.stringify(Template.fromStack(buildExampleApp(new App()).stack).toJSON(), null, 1));
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--', file], { encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it failed to run.
    expect({ failedToRun: result.status === 1 || result.status === null, errors: (result.status ?? 0) & 2, output }).toEqual({
      failedToRun: false,
      errors: 0,
      output: expect.any(String),
    });
    // Today the template has no warnings either; say so if that changes.
    if (output.trim()) console.warn(`cfn-lint findings (not errors):\n${output}`);
  });

  test('passes the cdk-nag AwsSolutions pack, every acknowledgement with a reason', () => {
    // cdk-nag 3 is a CDK policy validation plugin (it replaced Aspects and NagSuppressions):
    // findings fail app.synth(), and acknowledgements are Validations.of(x).acknowledge({ id, reason }).
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'permission-decay-nag-'));
    const { app } = buildExampleApp(new App({ outdir: out }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(fs.readFileSync(path.join(out, 'validation-report.json'), 'utf8'));
    expect(JSON.stringify(report.pluginReports ?? [])).not.toMatch(/AwsSolutions-/);

    const acknowledgements = app.node
      .findAll()
      .flatMap(c =>
        c.node.metadata
          .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap(m => Object.entries(m.data as Record<string, string>)),
      );
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) expect({ id, reason }).toEqual({ id, reason: expect.stringMatching(/^.{20,}$/) });
  });

  test('node dist/bin/example-app.js writes the template into cdk.out', () => {
    const entry = path.join(__dirname, '..', '..', 'dist', 'bin', 'example-app.js');
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run npx tsc -p tsconfig.json first`);
    const { stack, supportBot, opsBot } = buildExampleApp(new App());
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'permission-decay-out-'));
    execFileSync('node', [entry], { env: { ...process.env, CDK_OUTDIR: out }, encoding: 'utf8' });
    const template = JSON.parse(fs.readFileSync(path.join(out, 'PermissionDecayExample.template.json'), 'utf8'));
    expect(Object.keys(governedRoles(template))).toEqual([
      stack.getLogicalId(supportBot.role.node.defaultChild as any),
      stack.getLogicalId(opsBot.role.node.defaultChild as any),
    ]);
  });
});

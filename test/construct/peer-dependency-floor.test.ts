/**
 * The peer-dependency floor is true: the library builds, and the example app
 * synthesizes, against exactly the oldest aws-cdk-lib that package.json
 * accepts, installed from the npm registry into a scratch directory
 * (test/support/peer-floor.js). aws-cdk-lib 2.268.0 and older fail it:
 * `Validations.acknowledge` there refuses a rule id with more than one `::`,
 * as the cdk-nag ids the library acknowledges have (`AwsSolutions-IAM5[Resource::arn:aws:iam::...]`);
 * it is absent before 2.252.0, and `Validations` itself before 2.251.0.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GOVERNED_ROLE_PATH } from '../../lib/contract';

/** What test/support/peer-floor.js returns. */
interface FloorProbe {
  readonly installed?: string;
  readonly steps: { readonly name: string; readonly ok: boolean; readonly output: string }[];
  readonly templates: Record<string, { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }>;
  readonly treeVersions: string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JS helper, also run by hand to bisect a floor
const { buildAndSynthesizeAgainst } = require('../support/peer-floor') as { buildAndSynthesizeAgainst(version: string): FloorProbe };

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const range: string = pkg.peerDependencies['aws-cdk-lib'];

test('the aws-cdk-lib peer range is a caret range on an exact floor', () => {
  expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
  // The development copy the other tests run against is within the range (same major, not below the floor).
  const [floorMajor, floorMinor] = range.slice(1).split('.').map(Number);
  const dev = JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version as string;
  const [devMajor, devMinor] = dev.split('.').map(Number);
  expect(devMajor).toBe(floorMajor);
  expect(devMinor).toBeGreaterThanOrEqual(floorMinor);
});

test(
  'the library builds and the example app synthesizes against the floor version',
  () => {
    const floor = range.slice(1);
    const result = buildAndSynthesizeAgainst(floor);
    const failed = result.steps.find(s => !s.ok);
    expect(failed ? `${failed.name} failed:\n${failed.output.slice(0, 4000)}` : 'ok').toBe('ok');
    expect(result.steps.map(s => s.name)).toEqual(['npm install', 'tsc', 'bundle handlers', 'synth example app']);
    expect(result.installed).toBe(floor);
    // Every aws-cdk-lib construct in the synthesized tree was built by the floor version, none by the dev copy.
    expect(result.treeVersions).toEqual([floor]);
    const template = result.templates['PermissionDecayExample.template.json'];
    const resources = Object.values(template.Resources);
    const governedRoles = resources.filter(r => r.Type === 'AWS::IAM::Role' && r.Properties?.Path === GOVERNED_ROLE_PATH);
    expect(governedRoles).toHaveLength(2);
    expect(resources.filter(r => r.Type === 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(1);
    expect(resources.filter(r => r.Type === 'AWS::DynamoDB::Table').length).toBeGreaterThanOrEqual(1);
  },
  15 * 60 * 1000,
);

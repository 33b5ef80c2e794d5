/**
 * The emulator's bootstrap template is aws-cdk's own, changed only where moto
 * needs it: role-inline policies as AWS::IAM::Policy resources with the same
 * name, document and role. The oracle is the CLI's template as installed.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
// js-yaml comes with the toolchain (jest, istanbul); the generator uses the same copy.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(text: string): unknown };

const ROOT = path.resolve(__dirname, '..', '..');
const generator = path.join(ROOT, 'scripts', 'emulator-bootstrap-template.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SOURCE, TARGET } = require(generator) as { SOURCE: string; TARGET: string };

type Template = { Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }> };

test('the committed template is what the generator makes from the installed aws-cdk CLI', () => {
  expect(() => execFileSync(process.execPath, [generator, '--check'], { stdio: 'pipe' })).not.toThrow();
});

test("it differs from aws-cdk's bootstrap template only in where the roles' inline policies are written", () => {
  const original = yaml.safeLoad(fs.readFileSync(SOURCE, 'utf8')) as Template;
  const emulator = yaml.safeLoad(fs.readFileSync(TARGET, 'utf8')) as Template;
  const inline: { role: string; PolicyName: unknown; PolicyDocument: unknown }[] = [];
  for (const [id, r] of Object.entries(original.Resources)) {
    if (r.Type !== 'AWS::IAM::Role' || !r.Properties.Policies) continue;
    for (const p of r.Properties.Policies as { PolicyName: unknown; PolicyDocument: unknown }[]) inline.push({ role: id, ...p });
    delete r.Properties.Policies;
  }
  expect(inline.map(p => `${p.role}/${p.PolicyName}`)).toEqual(['LookupRole/LookupRolePolicy', 'DeploymentActionRole/default']);

  const added = Object.entries(emulator.Resources).filter(([id]) => !(id in original.Resources));
  expect(
    added.map(([, r]) => ({
      role: (r.Properties.Roles as { Ref: string }[])[0].Ref,
      PolicyName: r.Properties.PolicyName,
      PolicyDocument: r.Properties.PolicyDocument,
    })),
  ).toEqual(inline);
  expect(added.every(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as unknown[]).length === 1)).toBe(true);
  for (const [id] of added) delete emulator.Resources[id];
  // Everything else, the bootstrap version included, is the CLI's own.
  expect(emulator).toEqual(original);
});

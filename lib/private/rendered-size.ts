/**
 * Size estimates of values that hold unresolved CloudFormation references.
 *
 * IAM and SSM limit the size of what CloudFormation renders at deploy time,
 * which synth cannot know exactly. Each reference is replaced by a
 * placeholder as long as its value is likely to be at most (role and bucket
 * names are at most 64 characters, ARNs of generated resources stay under
 * 128), so the estimate errs on the large side.
 */

const PSEUDO_PARAMETER_LENGTHS: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
  'AWS::NoValue': 0,
};
const REF_LENGTH = 64;
const ATTRIBUTE_LENGTH = 128;

function placeholder(length: number): string {
  return 'x'.repeat(length);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A stand-in for a resolved CloudFormation value, with references replaced by placeholders. */
export function renderForEstimate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renderForEstimate);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0];
      if (key === 'Ref') return placeholder(PSEUDO_PARAMETER_LENGTHS[argument as string] ?? REF_LENGTH);
      if (key === 'Fn::GetAtt' || key === 'Fn::ImportValue') return placeholder(ATTRIBUTE_LENGTH);
      if (key === 'Fn::Join' && Array.isArray(argument) && Array.isArray(argument[1])) {
        return (argument[1] as unknown[]).map(part => asText(renderForEstimate(part))).join(String(argument[0]));
      }
      if (key.startsWith('Fn::')) return placeholder(JSON.stringify(argument).length);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, renderForEstimate(v)]));
  }
  return value;
}

/** Estimated length of the JSON text of a resolved value once deployed. */
export function estimatedJsonLength(resolved: unknown): number {
  return JSON.stringify(renderForEstimate(resolved) ?? null).length;
}

/** Estimated size of a resolved policy document as IAM counts it (characters, whitespace not counted). */
export function estimatedPolicySize(resolvedDocument: unknown): number {
  return JSON.stringify(renderForEstimate(resolvedDocument) ?? {}).replace(/\s/g, '').length;
}

/**
 * The checks a governed agent's finished role must pass at synth: IAM's
 * quotas (inline policy size, managed policies, tags, boundary size), the
 * spec parameter's size, and action names in statements changed after they
 * were added. Each problem names the agent and ends with the fix.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { unknownActionReason } from '../analysis/action-catalogue';
import { IAM_LIMITS, PolicyDocumentJson } from '../contract';
import { deniedResourcePolicyWrites, ResourcePolicyOptIn } from './agent-boundary';
import { AttachedPolicies } from './agent-role';
import { isOwnedManagedPolicy } from './cdk-brands';
import { ADVANCED_PARAMETER_CHARS } from './agent-spec';
import { estimatedPolicySize } from './rendered-size';

/** What the quota checks read of an agent. */
export interface QuotaSubject {
  readonly agentId: string;
  readonly role: iam.Role;
  readonly attached: AttachedPolicies;
  readonly managedPolicyAttachments: readonly iam.IManagedPolicy[];
  readonly grants: readonly { readonly grantName: string; readonly policy: iam.Policy }[];
  /** Its boundary; one made outside the stack (an account's, deployed by GovernedOrganization) is sized where it is made. */
  readonly boundary: iam.IManagedPolicy;
  readonly resourcePolicyOptIns: readonly ResourcePolicyOptIn[];
  /** The synthesis under way (undefined before the first): a boundary's size is resolved once per synthesis. */
  readonly generation: number | undefined;
  readonly specLength: () => number;
  readonly grantError: (name: string, problems: string[]) => string;
}

/** Every quota problem of the agent's role, all at once. */
export function agentQuotaProblems(subject: QuotaSubject): string[] {
  const stack = Stack.of(subject.role);
  const errors: string[] = [];
  const agent = `GovernedAgentRole '${subject.agentId}'`;

  for (const grant of subject.grants) {
    if (grant.policy.document.isEmpty) {
      errors.push(
        subject.grantError(grant.grantName, [
          'the grant has no statements: add statements to it (or pass it to a grant call) or remove it',
        ]),
      );
    }
  }

  const { inline, managed } = subject.attached;
  const documents = inline.map(p => stack.resolve(p.policyDocument));
  inline.forEach((policy, i) => {
    const problems = actionProblems(actionsOf(documents[i]));
    if (problems.length > 0) errors.push(`${agent} policy '${policy.policyName}': ${problems.join('; ')}: fix the action name`);
  });

  const inlineChars = documents.reduce((sum, d) => sum + estimatedPolicySize(d), 0);
  if (inlineChars > IAM_LIMITS.inlinePolicyAggregateChars) {
    errors.push(
      `${agent}: its inline policies (baseline and grants) come to about ${inlineChars} characters; IAM allows ` +
        `${IAM_LIMITS.inlinePolicyAggregateChars} per role: remove or narrow grants, or use wildcards in the baseline`,
    );
  }

  const managedCount = managed.length + subject.managedPolicyAttachments.length;
  if (managedCount > IAM_LIMITS.maxManagedPoliciesPerRole) {
    errors.push(
      `${agent}: ${managedCount} managed policies are attached; IAM allows ${IAM_LIMITS.maxManagedPoliciesPerRole} ` +
        'per role: merge some of them',
    );
  }

  const tags = ((subject.role.node.defaultChild as iam.CfnRole).tags.renderTags() as unknown[] | undefined) ?? [];
  if (tags.length > IAM_LIMITS.maxTagsPerRole) {
    errors.push(
      `${agent}: the role would carry ${tags.length} tags (4 governance tags, one per grant, and tags applied to it ` +
        `or its stack); IAM allows ${IAM_LIMITS.maxTagsPerRole}: remove grants or tags`,
    );
  }

  const boundarySize = boundarySizeOf(stack, subject.boundary, subject.generation);
  if (boundarySize > IAM_LIMITS.managedPolicyChars) {
    errors.push(
      `${agent}: its boundary (ceiling, governance denies and resource-policy opt-ins) is about ${boundarySize} characters; ` +
        `a managed policy holds ${IAM_LIMITS.managedPolicyChars}: shorten the ceiling or merge grants' resource-policy opt-ins`,
    );
  }
  if (subject.resourcePolicyOptIns.length > 0 && deniedResourcePolicyWrites(subject.resourcePolicyOptIns).length === 0) {
    errors.push(
      `${agent}: its grants opt in to every resource-policy write the boundary denies; ` +
        'list only the actions each grant needs in allowResourcePolicyWrites',
    );
  }

  const specLength = subject.specLength();
  if (specLength >= ADVANCED_PARAMETER_CHARS) {
    errors.push(
      `${agent}: its approved spec is about ${specLength} characters; an SSM parameter holds ${ADVANCED_PARAMETER_CHARS}: ` +
        'move statements into fewer, shorter grants or split the agent',
    );
  }
  return errors;
}

/** Sizes of boundaries by the synthesis they were measured in: a stack's shared boundary is measured once, not once per agent. */
const boundarySizes = new WeakMap<iam.ManagedPolicy, { generation: number; size: number }>();

function boundarySizeOf(stack: Stack, boundary: iam.IManagedPolicy, generation: number | undefined): number {
  if (!isOwnedManagedPolicy(boundary)) return 0;
  const cached = boundarySizes.get(boundary);
  if (generation !== undefined && cached?.generation === generation) return cached.size;
  const size = estimatedPolicySize(stack.resolve(boundary.document));
  if (generation !== undefined) boundarySizes.set(boundary, { generation, size });
  return size;
}

/** Why IAM would not know some of `actions` (unresolved tokens and non-strings are skipped). */
export function actionProblems(actions: unknown[]): string[] {
  return actions
    .filter((a): a is string => typeof a === 'string' && !Token.isUnresolved(a))
    .map(a => unknownActionReason(a))
    .filter((p): p is string => p !== undefined);
}

/** Every Action and NotAction of a resolved policy document. */
function actionsOf(document: unknown): unknown[] {
  const statements = (document as PolicyDocumentJson | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.flatMap(s => [s.Action, s.NotAction].flatMap(a => (a === undefined ? [] : Array.isArray(a) ? a : [a])));
}

/** A governed agent as the governance analysis (lib/analysis) sees it: every statement it holds, with where it came from. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AgentModel, AnalysedStatement, DelegationModel } from '../analysis/model';
import { BASELINE_POLICY_NAME } from '../contract';
import { AttachedPolicies } from './agent-role';
import { isOwnedManagedPolicy } from './cdk-brands';
import { analysedStatements, StatementOrigin, StoreLinker } from './governance-model';

/** A grant as the analysis reads it. */
export interface AnalysedGrant {
  readonly grantName: string;
  readonly expiresAt: string;
  readonly approvedRegimes: string[];
  readonly policy: iam.Policy;
}

/** What the analysis reads of an agent. */
export interface AnalysisSubject {
  readonly stack: Stack;
  readonly agentId: string;
  readonly regimes: string[];
  readonly attached: AttachedPolicies;
  readonly managedPolicyAttachments: readonly iam.IManagedPolicy[];
  readonly grants: readonly AnalysedGrant[];
  readonly delegations: readonly {
    readonly toAgentId: string;
    readonly sid: string;
    readonly grant?: AnalysedGrant;
    readonly approvedRegimes: string[];
  }[];
}

export function agentAnalysisModel(subject: AnalysisSubject, link: StoreLinker): AgentModel {
  const stack = subject.stack;
  const grantOf = new Map<Construct, AnalysedGrant>(subject.grants.map(g => [g.policy.node.defaultChild!, g]));
  const delegationGrants = new Set(subject.delegations.map(d => d.grant).filter(g => g !== undefined));
  const baselineOrigin: StatementOrigin = {
    source: 'baseline',
    delegationSids: subject.delegations.filter(d => !d.grant).map(d => d.sid),
  };
  const { inline, managed } = subject.attached;
  const statements: AnalysedStatement[] = [];
  for (const policy of inline) {
    const grant = grantOf.get(policy);
    const origin: StatementOrigin = grant
      ? {
          source: delegationGrants.has(grant) ? 'delegation' : 'grant',
          grantName: grant.grantName,
          expiresAt: grant.expiresAt,
          approvedRegimes: grant.approvedRegimes,
        }
      : { ...baselineOrigin, policyName: stack.resolve(policy.policyName) };
    statements.push(...analysedStatements(stack.resolve(policy.policyDocument), origin, stack, link));
  }
  const documents = [
    ...managed.map(p => p.policyDocument),
    ...subject.managedPolicyAttachments.filter(isOwnedManagedPolicy).map(p => p.document),
  ];
  for (const document of documents) statements.push(...analysedStatements(stack.resolve(document), baselineOrigin, stack, link));
  const delegations: DelegationModel[] = subject.delegations.map(d => ({
    toAgentId: d.toAgentId,
    via: d.grant?.grantName ?? BASELINE_POLICY_NAME,
    ...(d.grant ? { expiresAt: d.grant.expiresAt } : {}),
    ...(d.approvedRegimes.length > 0 ? { approvedRegimes: d.approvedRegimes } : {}),
  }));
  return { agentId: subject.agentId, regimes: subject.regimes, statements, delegations };
}

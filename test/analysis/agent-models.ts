/** Small builders for analysis models, so tables read as the policies they stand for. */
import { AgentModel, AnalysedStatement, DelegationModel, StoreModel } from '../../lib/analysis';

export function baseline(actions: string[], resources: string[] = ['*']): AnalysedStatement {
  return { effect: 'Allow', actions, resources: resources.map(text => ({ text })), source: 'baseline' };
}

export function grant(
  grantName: string,
  actions: string[],
  resources: string[],
  expiresAt: string,
  extra: Partial<AnalysedStatement> = {},
): AnalysedStatement {
  return { effect: 'Allow', actions, resources: resources.map(text => ({ text })), source: 'grant', grantName, expiresAt, ...extra };
}

export function deny(actions: string[], resources: string[], extra: Partial<AnalysedStatement> = {}): AnalysedStatement {
  return { effect: 'Deny', actions, resources: resources.map(text => ({ text })), source: 'baseline', ...extra };
}

export function agent(
  agentId: string,
  statements: AnalysedStatement[],
  delegations: DelegationModel[] = [],
  regimes: string[] = [],
): AgentModel {
  return { agentId, regimes, statements, delegations };
}

export function delegateTo(toAgentId: string, expiresAt?: string, extra: Partial<DelegationModel> = {}): DelegationModel {
  return { toAgentId, via: `to-${toAgentId}`, ...(expiresAt ? { expiresAt } : {}), ...extra };
}

export function bucket(key: string, name: string, extra: Partial<StoreModel> = {}): StoreModel {
  return { key, kind: 's3-bucket', displayName: name, arnPatterns: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`], ...extra };
}

export function logGroup(key: string, name: string, extra: Partial<StoreModel> = {}): StoreModel {
  return {
    key,
    kind: 'log-group',
    displayName: name,
    arnPatterns: [`arn:aws:logs:*:*:log-group:${name}`, `arn:aws:logs:*:*:log-group:${name}:*`],
    ...extra,
  };
}

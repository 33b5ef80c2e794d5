/**
 * From constructs to the analysis model (issue 7): resolved policy documents
 * become AnalysedStatements, store resources become StoreModels, and
 * CloudFormation intrinsics become stable text (`${Bucket1234.Arn}/*`) so the
 * report does not change from one synth to the next.
 */
import { CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { AnalysedStatement, ResourceRef, StatementSource, StoreModel } from '../analysis/model';
import { EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, PolicyDocumentJson, TAG_COMPLIANCE, TAG_OWNER } from '../contract';
import {
  literalArnPatterns,
  NAME_PROPERTY,
  renderedProperties,
  retentionOf,
  STORE_KIND_BY_CFN_TYPE,
  storeDeclaration,
} from './store-registry';

/** A CloudFormation value as stable text: literals as they are, intrinsics as `${...}`. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(renderValue).join(',');
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      if (fn === 'Ref') return `\${${renderValue(arg)}}`;
      if (fn === 'Fn::GetAtt') return `\${${Array.isArray(arg) ? arg.map(renderValue).join('.') : renderValue(arg)}}`;
      if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) return arg[1].map(renderValue).join(String(arg[0]));
      if (fn === 'Fn::Sub' && typeof arg === 'string') return arg;
      if (fn === 'Fn::ImportValue') return `\${Import:${renderValue(arg)}}`;
    }
    return `\${${JSON.stringify(value)}}`;
  }
  return String(value);
}

/** Links a statement's resource text to a store in the same stack. */
export type StoreLinker = (stack: Stack, text: string) => string | undefined;

/** What a policy's statements have in common. */
export interface StatementOrigin {
  readonly source: StatementSource;
  readonly grantName?: string;
  readonly expiresAt?: string;
  readonly approvedRegimes?: readonly string[];
  /** Sid stems marking delegation statements inside a baseline policy. */
  readonly delegationSids?: readonly string[];
  /** The policy's name: the grantName of delegation statements found by Sid. */
  readonly policyName?: string;
}

/** The statements of a resolved policy document, for the analysis. */
export function analysedStatements(
  document: PolicyDocumentJson | undefined,
  origin: StatementOrigin,
  stack: Stack,
  link: StoreLinker,
): AnalysedStatement[] {
  const raw = document?.Statement;
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Record<string, unknown>[];
  return list.map(s => {
    const sid = typeof s.Sid === 'string' ? s.Sid : '';
    const delegation = origin.source !== 'delegation' && (origin.delegationSids ?? []).some(stem => sid.startsWith(stem));
    const conditions = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
    const conditional = Object.entries(conditions).some(([op, keys]) =>
      Object.keys(keys ?? {}).some(k => !(op === EXPIRY_CONDITION_OPERATOR && k === EXPIRY_CONDITION_KEY)),
    );
    const refs = (v: unknown): ResourceRef[] =>
      listOf(v).map(text => {
        const storeKey = link(stack, text);
        return storeKey !== undefined ? { text, storeKey } : { text };
      });
    return {
      effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
      ...(s.NotAction !== undefined ? { notActions: listOf(s.NotAction) } : { actions: listOf(s.Action) }),
      resources: s.Resource !== undefined ? refs(s.Resource) : [],
      ...(s.NotResource !== undefined ? { notResources: refs(s.NotResource) } : {}),
      ...(conditional ? { conditional } : {}),
      source: delegation ? 'delegation' : origin.source,
      ...(origin.grantName !== undefined
        ? { grantName: origin.grantName }
        : delegation && origin.policyName
          ? { grantName: origin.policyName }
          : {}),
      ...(origin.expiresAt !== undefined ? { expiresAt: origin.expiresAt } : {}),
      ...(origin.approvedRegimes && origin.approvedRegimes.length > 0 ? { approvedRegimes: origin.approvedRegimes } : {}),
    } as AnalysedStatement;
  });
}

function listOf(value: unknown): string[] {
  if (value === undefined) return [];
  // A list-valued intrinsic (e.g. Fn::Split) stays one text; a literal list is one text per item.
  return Array.isArray(value) ? value.map(renderValue) : [renderValue(value)];
}

/** The data stores of a stage, and a linker from statement resources to them. */
export function collectStores(stage: IConstruct): { stores: StoreModel[]; link: StoreLinker } {
  const stores: StoreModel[] = [];
  const byStack = new Map<Stack, { logicalId: string; key: string }[]>();
  const stageOf = (c: IConstruct) => Stage.of(c) ?? c.node.root;
  for (const c of stage.node.findAll()) {
    if (!CfnResource.isCfnResource(c)) continue;
    const kind = STORE_KIND_BY_CFN_TYPE[c.cfnResourceType];
    if (!kind || stageOf(c) !== stage) continue;
    const stack = Stack.of(c);
    const logicalId = stack.resolve(c.logicalId) as string;
    const props = renderedProperties(c);
    const tags = tagsOf(props.Tags);
    const declared = storeDeclaration(c);
    const owner = c.node.scope && c.node.id === 'Resource' ? c.node.scope : c;
    const key = owner.node.path;
    const nameProperty = NAME_PROPERTY[c.cfnResourceType];
    const name = nameProperty && typeof props[nameProperty] === 'string' ? (props[nameProperty] as string) : undefined;
    const regime = declared?.regime ?? tags[TAG_COMPLIANCE];
    const storeOwner = declared?.owner ?? tags[TAG_OWNER];
    const retention = declared?.retention ?? retentionOf(c);
    stores.push({
      key,
      kind,
      displayName: name ? `${name} (${key})` : key,
      ...(regime !== undefined ? { regime } : {}),
      ...(retention !== undefined ? { retention } : {}),
      ...(storeOwner !== undefined ? { owner: storeOwner } : {}),
      arnPatterns: [`\${${logicalId}}*`, `\${${logicalId}.*`, ...literalArnPatterns(kind, name)],
    });
    const list = byStack.get(stack) ?? [];
    list.push({ logicalId, key });
    byStack.set(stack, list);
  }
  stores.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const link: StoreLinker = (stack, text) => {
    if (!text.includes('${')) return undefined;
    return byStack.get(stack)?.find(s => text.includes(`\${${s.logicalId}}`) || text.includes(`\${${s.logicalId}.`))?.key;
  };
  return { stores, link };
}

function tagsOf(tags: unknown): Record<string, string> {
  if (Array.isArray(tags)) {
    return Object.fromEntries(tags.filter(t => t && typeof t.Key === 'string' && typeof t.Value === 'string').map(t => [t.Key, t.Value]));
  }
  if (tags && typeof tags === 'object') {
    return Object.fromEntries(Object.entries(tags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  }
  return {};
}

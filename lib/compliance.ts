import { Tags, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { TAG_COMPLIANCE, TAG_OWNER } from './contract';
import { tagValueProblems } from './private/grant-rules';
import { cfnResourceOf, declareStore, STORE_KIND_BY_CFN_TYPE } from './private/store-registry';

/**
 * What is known about a data store besides its regime.
 */
export interface ComplianceScopeOptions {
  /**
   * A contact for the store's owner (tagged `governance:owner`; shown in the store inventory).
   * @default - unknown
   */
  readonly owner?: string;

  /**
   * How long the store keeps data, in words (e.g. "7 years"; shown in the store inventory).
   * @default - read from the resource where it says (log group retention, bucket lifecycle
   * expiry, queue and stream retention, table TTL), else unknown
   */
  readonly retention?: string;
}

/**
 * Compliance scope of a data store: the regime it belongs to (e.g. `pci`,
 * `hipaa`). A governed agent whose statements reach a store of a regime it
 * does not declare fails synth, unless the grant (or delegation) approves it.
 *
 *   Compliance.of(cardTable).regime('pci', { owner: 'payments@example.com' });
 */
export class Compliance {
  /** The compliance scope of `resource`: an L2 store construct (Bucket, Table, LogGroup, Queue...) or its L1 resource. */
  public static of(resource: IConstruct): Compliance {
    return new Compliance(resource);
  }

  private constructor(private readonly resource: IConstruct) {}

  /**
   * Puts the store in `regime`: tags it `governance:compliance=<regime>` and
   * records it (with the options) for the compliance check and the store
   * inventory.
   */
  public regime(regime: string, options: ComplianceScopeOptions = {}): Compliance {
    const problems: string[] = [];
    if (!Token.isUnresolved(regime)) {
      if (!regime || !regime.trim()) problems.push('the regime is empty: name it, e.g. "pci"');
      else problems.push(...tagValueProblems('regime', regime));
    }
    if (options.owner !== undefined && !Token.isUnresolved(options.owner)) problems.push(...tagValueProblems('owner', options.owner));
    const cfn = this.store(problems);
    Tags.of(this.resource).add(TAG_COMPLIANCE, regime);
    if (options.owner !== undefined) Tags.of(this.resource).add(TAG_OWNER, options.owner);
    declareStore(cfn, { regime, ...options });
    return this;
  }

  /**
   * Records who owns the store and how long it keeps data, without a regime
   * (the store inventory shows them; the compliance check ignores the store).
   */
  public describe(options: ComplianceScopeOptions): Compliance {
    const problems = options.owner !== undefined && !Token.isUnresolved(options.owner) ? tagValueProblems('owner', options.owner) : [];
    const cfn = this.store(problems);
    if (options.owner !== undefined) Tags.of(this.resource).add(TAG_OWNER, options.owner);
    declareStore(cfn, { ...options });
    return this;
  }

  private store(problems: string[]) {
    const cfn = cfnResourceOf(this.resource);
    if (!cfn || STORE_KIND_BY_CFN_TYPE[cfn.cfnResourceType] === undefined) {
      problems.push(
        `${cfn ? cfn.cfnResourceType : 'it has no CloudFormation resource'} is not a data store the inventory knows ` +
          `(${Object.keys(STORE_KIND_BY_CFN_TYPE).join(', ')}): pass the store construct itself`,
      );
    }
    if (problems.length > 0) throw new Error(`Compliance.of(${this.resource.node.path}): ${problems.join('; ')}`);
    return cfn!;
  }
}

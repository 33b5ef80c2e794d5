/**
 * Recognises aws-cdk-lib constructs by their brands, never by `instanceof`.
 *
 * A consumer's app can hold two copies of aws-cdk-lib (a nested install, a
 * linked package, a tool's own copy): a CfnPolicy made by one copy is not an
 * `instanceof` the other copy's class, so an `instanceof` check silently
 * answers "no" and a policy goes uncounted. aws-cdk-lib brands its constructs
 * with `Symbol.for` keys that every copy shares (`CfnResource.isCfnResource`,
 * `Resource.isOwnedResource`) and names each resource by its CloudFormation
 * type, so these checks hold across copies.
 */
import { CfnResource, Resource, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** An `AWS::IAM::Policy` resource (an inline policy), from any copy of aws-cdk-lib. */
export function isCfnPolicy(c: IConstruct): c is iam.CfnPolicy {
  return CfnResource.isCfnResource(c) && c.cfnResourceType === iam.CfnPolicy.CFN_RESOURCE_TYPE_NAME;
}

/** An `AWS::IAM::ManagedPolicy` resource, from any copy of aws-cdk-lib. */
export function isCfnManagedPolicy(c: IConstruct): c is iam.CfnManagedPolicy {
  return CfnResource.isCfnResource(c) && c.cfnResourceType === iam.CfnManagedPolicy.CFN_RESOURCE_TYPE_NAME;
}

/**
 * An L2 `PolicyDocument`. It carries no brand, so it is recognised by the
 * members callers rely on (`isEmpty`, `addStatements`, `resolve`); JSON, a
 * token or anything else answers false.
 */
export function isPolicyDocument(x: unknown): x is iam.PolicyDocument {
  if (typeof x !== 'object' || x === null) return false;
  const doc = x as { isEmpty?: unknown; addStatements?: unknown; resolve?: unknown };
  return typeof doc.isEmpty === 'boolean' && typeof doc.addStatements === 'function' && typeof doc.resolve === 'function';
}

/**
 * A managed policy made in this app (an L2 `ManagedPolicy`, whose document is
 * known at synth), not one imported by ARN or AWS-managed: an owned resource
 * whose CloudFormation resource is an `AWS::IAM::ManagedPolicy` and which
 * holds a policy document.
 */
export function isOwnedManagedPolicy(p: IConstruct | iam.IManagedPolicy): p is iam.ManagedPolicy {
  // isResource first: it reads only the brand, while an AWS-managed policy's `node` throws when read.
  const construct = p as IConstruct;
  if (!Resource.isResource(construct) || !Resource.isOwnedResource(construct)) return false;
  const defaultChild = construct.node.defaultChild;
  return !!defaultChild && isCfnManagedPolicy(defaultChild) && isPolicyDocument((p as { document?: unknown }).document);
}

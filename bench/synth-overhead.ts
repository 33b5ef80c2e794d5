/**
 * Synth overhead of the construct: a stack of N GovernedAgentRoles with two
 * time-bound grants each, against a stack of N plain iam.Roles holding the
 * same statements (a baseline policy and one inline policy per grant with the
 * same date condition). Construction + synth of a fresh App each time,
 * alternating, after one warm-up of each; the median is reported.
 *
 * The construct is loaded from the built library (dist/lib), as a consumer
 * would use it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, SYNTH_CLOCK_CONTEXT_KEY } from '../lib/contract';
import { median } from './lambda-package';

export interface SynthOverheadResult {
  readonly available: boolean;
  readonly reason?: string;
  readonly roles: number;
  readonly grantsPerRole: number;
  readonly repeats: number;
  readonly governedMs: number[];
  readonly plainMs: number[];
  readonly medianGovernedMs: number;
  readonly medianPlainMs: number;
  readonly ratio: number;
  readonly governedResources?: number;
  readonly plainResources?: number;
}

const NOW = '2026-06-01T00:00:00Z';
const EXPIRIES = ['2026-06-10T00:00:00Z', '2026-06-20T00:00:00Z'];
const GRANTS_PER_ROLE = EXPIRIES.length;

function baselineStatement(i: number): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [`arn:aws:logs:us-east-1:123456789012:log-group:/agents/${i}:*`],
  });
}

function grantStatement(i: number, g: number): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [`arn:aws:s3:::bench-data-${i}/grant-${g}/*`] });
}

/** Roles per stack: a GovernedAgentRole with two grants is 6 resources, and a stack holds at most 500. */
const ROLES_PER_STACK = 50;

/** A fresh App whose `stackFor(i)` puts role i in one of ceil(n / ROLES_PER_STACK) stacks. */
function newApp(): { app: App; stackFor: (i: number) => Stack; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-bench-synth-'));
  const app = new App({ outdir, context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
  const stacks: Stack[] = [];
  const stackFor = (i: number) => {
    const k = Math.floor(i / ROLES_PER_STACK);
    stacks[k] ??= new Stack(app, `Bench${k}`, { env: { account: '123456789012', region: 'us-east-1' } });
    return stacks[k];
  };
  return { app, stackFor, outdir };
}

function resourceCount(assembly: ReturnType<App['synth']>): number {
  return assembly.stacks.reduce((n, s) => n + Object.keys(s.template.Resources ?? {}).length, 0);
}

/** The part of GovernedAgentRole (lib/governed-agent-role.ts) the benchmark uses. */
type GovernedAgentRoleClass = new (
  scope: Stack,
  id: string,
  props: {
    agentId: string;
    owner: string;
    assumedBy: iam.IPrincipal;
    baseline?: iam.PolicyStatement[];
  },
) => {
  temporaryGrant(
    name: string,
    options: { expiresAt: string; requestedBy: string; ticket: string; reason: string; statements?: iam.PolicyStatement[] },
  ): iam.IGrantable;
};

function synthGoverned(GovernedAgentRole: GovernedAgentRoleClass, n: number): { ms: number; resources: number } {
  const t = process.hrtime.bigint();
  const { app, stackFor, outdir } = newApp();
  for (let i = 0; i < n; i++) {
    const agent = new GovernedAgentRole(stackFor(i), `Agent${i}`, {
      agentId: `bench-agent-${i}`,
      owner: 'owner@example.com',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      baseline: [baselineStatement(i)],
    });
    EXPIRIES.forEach((expiresAt, g) => {
      agent.temporaryGrant(`grant-${g}`, {
        expiresAt,
        requestedBy: 'alice',
        ticket: 'BENCH-1',
        reason: 'benchmark',
        statements: [grantStatement(i, g)],
      });
    });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const resources = resourceCount(assembly);
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, resources };
}

function synthPlain(n: number): { ms: number; resources: number } {
  const t = process.hrtime.bigint();
  const { app, stackFor, outdir } = newApp();
  for (let i = 0; i < n; i++) {
    const stack = stackFor(i);
    const role = new iam.Role(stack, `Agent${i}`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(baselineStatement(i));
    EXPIRIES.forEach((expiresAt, g) => {
      const s = grantStatement(i, g);
      s.addCondition(EXPIRY_CONDITION_OPERATOR, { [EXPIRY_CONDITION_KEY]: expiresAt });
      role.attachInlinePolicy(new iam.Policy(stack, `Agent${i}Grant${g}`, { policyName: `grant-${g}`, statements: [s] }));
    });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const resources = resourceCount(assembly);
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, resources };
}

function loadConstruct(): GovernedAgentRoleClass | string {
  const built = path.resolve(__dirname, '..', 'lib', 'index.js');
  try {
    // A runtime path: the bench bundle must not inline the library (measure what consumers load).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at run time, see above
    const lib = require(built) as { GovernedAgentRole?: GovernedAgentRoleClass };
    return lib.GovernedAgentRole ?? `${built} does not export GovernedAgentRole yet`;
  } catch (e) {
    return `cannot load ${built}: ${(e as Error).message}`;
  }
}

export async function runSynthOverhead(roles: number, repeats: number): Promise<SynthOverheadResult> {
  const empty = {
    roles,
    grantsPerRole: GRANTS_PER_ROLE,
    repeats,
    governedMs: [],
    plainMs: [],
    medianGovernedMs: NaN,
    medianPlainMs: NaN,
    ratio: NaN,
  };
  const construct = loadConstruct();
  if (typeof construct === 'string') return { available: false, reason: construct, ...empty };
  try {
    // Warm-up: module loading and JIT belong to neither side.
    synthPlain(5);
    synthGoverned(construct, 5);
    const governedMs: number[] = [];
    const plainMs: number[] = [];
    let governedResources = 0;
    let plainResources = 0;
    for (let r = 0; r < repeats; r++) {
      const p = synthPlain(roles);
      plainMs.push(p.ms);
      plainResources = p.resources;
      const g = synthGoverned(construct, roles);
      governedMs.push(g.ms);
      governedResources = g.resources;
    }
    const medianGovernedMs = median(governedMs);
    const medianPlainMs = median(plainMs);
    return {
      available: true,
      roles,
      grantsPerRole: GRANTS_PER_ROLE,
      repeats,
      governedMs,
      plainMs,
      medianGovernedMs,
      medianPlainMs,
      ratio: medianGovernedMs / medianPlainMs,
      governedResources,
      plainResources,
    };
  } catch (e) {
    return { available: false, reason: `synth failed: ${(e as Error).message}`, ...empty };
  }
}

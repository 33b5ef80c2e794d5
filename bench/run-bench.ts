/**
 * The permission-decay benchmark: how close the sweeper is to IAM's limits.
 *
 *   npm run bench         full: 1,000 and 5,000 roles, latency run at 1,000
 *   npm run bench:quick   about two minutes: 200 and 500 roles, latency run at 100
 *
 * Prints a table and writes bench/results.json. Each measured sweep and the
 * decision core run in fresh child processes (this file, `--child <json>`),
 * so memory figures belong to the work measured.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { formatExpiry } from '../lib/contract';
import { startAwsProxy } from '../test/support/aws-proxy';
import { CommandCount } from '../test/support/call-counter';
import { clientConfig, Moto, startMoto } from '../test/support/moto';
import { DecisionCoreResult, runDecisionCore } from './decision-core';
import { expectedChanges, seedGovernedAccount, SeededAccount } from './governed-account';
import { LambdaPackageResult, measureLambdaPackage, median } from './lambda-package';
import { runSweepScenario, SweepRunInput, SweepRunOutput } from './sweep-scenarios';
import { runSynthOverhead, SynthOverheadResult } from './synth-overhead';

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS_PATH = path.join(ROOT, 'bench', 'results.json');
const BUNDLE_PATH = path.join(ROOT, 'dist', 'handlers', 'sweeper', 'index.js');
const LEDGER_TABLE = 'permission-decay-ledger-bench';

interface Profile {
  readonly name: 'quick' | 'full';
  /** Account sizes swept against the emulator (our sweeper). */
  readonly sizes: number[];
  /** Sizes at which the per-role reference reader also runs. */
  readonly referenceSizes: number[];
  readonly latencyRoles: number;
  readonly decisionSizes: number[];
  readonly synthRoles: number;
  readonly synthRepeats: number;
  readonly lambdaRuns: number;
}

const PROFILES: Record<'quick' | 'full', Profile> = {
  quick: {
    name: 'quick',
    sizes: [200, 500],
    referenceSizes: [200],
    latencyRoles: 100,
    decisionSizes: [10000, 100000],
    synthRoles: 200,
    synthRepeats: 1,
    lambdaRuns: 5,
  },
  full: {
    name: 'full',
    sizes: [1000, 5000],
    referenceSizes: [1000],
    latencyRoles: 1000,
    decisionSizes: [10000, 100000],
    synthRoles: 200,
    synthRepeats: 3,
    lambdaRuns: 9,
  },
};

/** The proxy's account model for the latency run. */
const LATENCY_MS = 50;
const IAM_RATE_PER_S = 10;
/** Real IAM returns at most this many entries a GetAccountAuthorizationDetails page (MaxItems). */
const GAAD_MAX_ITEMS = 1000;

const GRANTS_PER_ROLE = 3;
const DECISION_GRANTS_PER_ROLE = 5;

// ---------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------

type ChildTask =
  | { readonly kind: 'sweep'; readonly input: SweepRunInput }
  | { readonly kind: 'decide'; readonly roles: number; readonly grantsPerRole: number };

const RESULT_PREFIX = 'BENCH_RESULT ';

async function childMain(task: ChildTask): Promise<void> {
  const out = task.kind === 'sweep' ? await runSweepScenario(task.input) : runDecisionCore(task.roles, task.grantsPerRole);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(out)}\n`);
}

function inChild<T>(task: ChildTask): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=4096', '--no-warnings', __filename, '--child', JSON.stringify(task)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => {
      stdout += d;
    });
    child.stderr.on('data', d => {
      stderr = (stderr + d).slice(-8000);
    });
    child.on('exit', code => {
      const line = stdout.split('\n').find(l => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) return reject(new Error(`bench child (${task.kind}) exited ${code}: ${stderr}`));
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

interface CallFigures {
  readonly iamReads: number;
  readonly iamWrites: number;
  readonly otherReads: number;
  readonly otherWrites: number;
  readonly byCommand: Record<string, number>;
  /** Milliseconds spent waiting on each command (summed over its calls). */
  readonly msByCommand: Record<string, number>;
}

function figures(calls: readonly CommandCount[]): CallFigures {
  const sum = (f: (c: CommandCount) => boolean) => calls.filter(f).reduce((n, c) => n + c.calls, 0);
  const byCommand: Record<string, number> = {};
  const msByCommand: Record<string, number> = {};
  for (const c of calls) {
    byCommand[`${c.service}:${c.command}`] = c.calls;
    msByCommand[`${c.service}:${c.command}`] = Math.round(c.ms);
  }
  return {
    iamReads: sum(c => c.service === 'iam' && c.kind === 'read'),
    iamWrites: sum(c => c.service === 'iam' && c.kind === 'write'),
    otherReads: sum(c => c.service !== 'iam' && c.kind === 'read'),
    otherWrites: sum(c => c.service !== 'iam' && c.kind === 'write'),
    byCommand,
    msByCommand,
  };
}

interface ScaleResult {
  readonly roles: number;
  readonly grantsPerRole: number;
  readonly seedMs: number;
  readonly expected: ReturnType<typeof expectedChanges>;
  /** Our read + decide (dry run), where the reference also runs. */
  readonly oursReadDecide?: { wallMs: number; calls: CallFigures; planDigest: string };
  readonly reference?: { wallMs: number; calls: CallFigures; planDigest: string; samePlan: boolean };
  readonly ours: {
    wallMs: number;
    calls: CallFigures;
    plan: SweepRunOutput['plan'];
    outcomes: Record<string, number>;
    failed: number;
    firstErrors: string[];
    memory: SweepRunOutput['memory'];
  };
  readonly writeCheck: WriteCheck;
  readonly iamReadRatio?: number;
}

interface WriteCheck {
  /**
   * IAM writes the changes need: revoke = delete + untag, renew = put + tag, drift = put (the date condition of
   * its drift expiry, so IAM ends it even if no sweep runs again; the fixture's drift is inline) + tag.
   */
  readonly iamExpected: number;
  readonly iamCounted: number;
  /** One ledger transaction per record, one event per record, one notification per step that notifies. */
  readonly ledgerExpected: number;
  readonly ledgerCounted: number;
  readonly eventsExpected: number;
  readonly eventsCounted: number;
  readonly notificationsExpected: number;
  readonly notificationsCounted: number;
  readonly decisionsMatch: boolean;
  readonly ok: boolean;
}

function writeCheck(expected: ReturnType<typeof expectedChanges>, run: SweepRunOutput, calls: CallFigures): WriteCheck {
  const iamExpected = 2 * expected.revoked + 2 * expected.renewed + 2 * expected.drift;
  const records = expected.revoked + expected.renewed + expected.drift;
  const c = (k: string) => calls.byCommand[k] ?? 0;
  const d = run.plan.byDecision;
  const decisionsMatch =
    (d.revoked ?? 0) === expected.revoked &&
    (d.renewed ?? 0) === expected.renewed &&
    (d.drift ?? 0) === expected.drift &&
    run.plan.records === records &&
    run.failedOutcomes === 0;
  const r = {
    iamExpected,
    iamCounted: calls.iamWrites,
    ledgerExpected: records,
    ledgerCounted: c('dynamodb:TransactWriteItems') + c('dynamodb:PutItem') + c('dynamodb:UpdateItem') + c('dynamodb:BatchWriteItem'),
    eventsExpected: records,
    eventsCounted: c('eventbridge:PutEvents'),
    notificationsExpected: run.plan.notifies,
    notificationsCounted: c('sns:Publish'),
    decisionsMatch,
  };
  return {
    ...r,
    ok:
      decisionsMatch &&
      r.iamCounted === r.iamExpected &&
      r.ledgerCounted === r.ledgerExpected &&
      r.eventsCounted === r.eventsExpected &&
      r.notificationsCounted === r.notificationsExpected,
  };
}

function benchNow(): string {
  return formatExpiry(new Date(Math.floor(Date.now() / 1000) * 1000));
}

async function seed(moto: Moto, roles: number, now: string): Promise<SeededAccount> {
  const cfg = clientConfig(moto.endpoint);
  const clients = {
    cfn: new CloudFormationClient(cfg),
    sns: new SNSClient(cfg),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(cfg), { marshallOptions: { removeUndefinedValues: true } }),
  };
  try {
    return await seedGovernedAccount(clients, { roles, grantsPerRole: GRANTS_PER_ROLE, now: new Date(now) }, { table: LEDGER_TABLE });
  } finally {
    clients.cfn.destroy();
    clients.sns.destroy();
    clients.ddb.destroy();
  }
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function scaleRun(moto: Moto, roles: number, withReference: boolean): Promise<ScaleResult> {
  const now = benchNow();
  const account = await seed(moto, roles, now);
  log(`${roles} roles seeded in ${(account.seedMs / 1000).toFixed(1)} s (${account.seedCalls} calls)`);
  const base = { endpoint: moto.endpoint, table: account.table, topicArn: account.topicArn, now };
  let reference: ScaleResult['reference'];
  let oursDry: ScaleResult['oursReadDecide'];
  if (withReference) {
    // Read + decide of both readers, each in a fresh process, before the full sweep changes the account.
    const dry = await inChild<SweepRunOutput>({ kind: 'sweep', input: { ...base, mode: 'ours-dry' } });
    oursDry = { wallMs: dry.wallMs, calls: figures(dry.calls), planDigest: dry.plan.digest };
    log(`${roles}: our read + decide ${(dry.wallMs / 1000).toFixed(1)} s`);
    const ref = await inChild<SweepRunOutput>({ kind: 'sweep', input: { ...base, mode: 'per-role-dry' } });
    reference = {
      wallMs: ref.wallMs,
      calls: figures(ref.calls),
      planDigest: ref.plan.digest,
      samePlan: ref.plan.digest === dry.plan.digest,
    };
    log(`${roles}: per-role read + decide ${(ref.wallMs / 1000).toFixed(1)} s, same plan: ${reference.samePlan}`);
  }
  const full = await inChild<SweepRunOutput>({ kind: 'sweep', input: { ...base, mode: 'ours' } });
  log(`${roles}: our full sweep ${(full.wallMs / 1000).toFixed(1)} s`);
  const calls = figures(full.calls);
  return {
    roles,
    grantsPerRole: GRANTS_PER_ROLE,
    seedMs: account.seedMs,
    expected: account.expected,
    oursReadDecide: oursDry,
    reference,
    ours: {
      wallMs: full.wallMs,
      calls,
      plan: full.plan,
      outcomes: full.outcomes,
      failed: full.failedOutcomes,
      firstErrors: full.firstErrors,
      memory: full.memory,
    },
    writeCheck: writeCheck(account.expected, full, calls),
    iamReadRatio: reference ? reference.calls.iamReads / Math.max(1, calls.iamReads) : undefined,
  };
}

interface LatencyResult {
  readonly roles: number;
  readonly latencyMs: number;
  readonly iamRatePerS: number;
  readonly wallMs: number;
  readonly calls: CallFigures;
  readonly iamReadPagesAsMade: number;
  readonly iamReadPagesRealIam: number;
  readonly lowerBoundMs: number;
  readonly lowerBoundFormula: string;
  readonly ratio: number;
  readonly otherCallsSequentialMs: number;
  readonly rateLimitWaitMs: number;
  readonly referenceProjectedMs?: number;
  readonly failed: number;
}

async function latencyRun(moto: Moto, roles: number, referenceIamCallsPerRole: number | undefined): Promise<LatencyResult> {
  const now = benchNow();
  const account = await seed(moto, roles, now);
  log(`latency: ${roles} roles seeded`);
  const proxy = await startAwsProxy({
    target: moto.endpoint,
    latencyMs: LATENCY_MS,
    rateLimit: { perSecond: IAM_RATE_PER_S, burst: 1, appliesTo: req => req.service === 'iam' },
  });
  try {
    const run = await inChild<SweepRunOutput>({
      kind: 'sweep',
      input: { endpoint: proxy.endpoint, table: account.table, topicArn: account.topicArn, now, mode: 'ours' },
    });
    const calls = figures(run.calls);
    const pages = calls.iamReads;
    const lowerBoundMs = pages * LATENCY_MS + (calls.iamWrites / IAM_RATE_PER_S) * 1000;
    // Local customer-managed policies in the fixture: none, so real IAM needs ceil(roles / MaxItems) pages.
    const realPages = Math.ceil(roles / GAAD_MAX_ITEMS) + 0;
    const otherCalls = calls.otherReads + calls.otherWrites;
    log(`latency: ${roles} roles swept in ${(run.wallMs / 1000).toFixed(1)} s (lower bound ${(lowerBoundMs / 1000).toFixed(1)} s)`);
    return {
      roles,
      latencyMs: LATENCY_MS,
      iamRatePerS: IAM_RATE_PER_S,
      wallMs: run.wallMs,
      calls,
      iamReadPagesAsMade: pages,
      iamReadPagesRealIam: realPages,
      lowerBoundMs,
      lowerBoundFormula: `IAM read pages × latency + IAM writes ÷ IAM rate = ${pages} × ${LATENCY_MS} ms + ${calls.iamWrites} ÷ ${IAM_RATE_PER_S}/s = ${(lowerBoundMs / 1000).toFixed(2)} s`,
      ratio: run.wallMs / lowerBoundMs,
      otherCallsSequentialMs: otherCalls * LATENCY_MS,
      rateLimitWaitMs: proxy.stats().rateLimitWaitMs,
      referenceProjectedMs:
        referenceIamCallsPerRole !== undefined ? ((referenceIamCallsPerRole * roles + calls.iamWrites) / IAM_RATE_PER_S) * 1000 : undefined,
      failed: run.failedOutcomes,
    };
  } finally {
    await proxy.close();
  }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

interface Target {
  readonly name: string;
  readonly target: string;
  readonly figure: string;
  readonly met: boolean | undefined;
  readonly note?: string;
}

function fmtS(ms: number): string {
  return ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map(r => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map(r => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf('--child');
  if (childAt >= 0) return childMain(JSON.parse(args[childAt + 1]) as ChildTask);
  const profile = PROFILES[args.includes('--quick') ? 'quick' : 'full'];
  const started = Date.now();
  const loadAtStart = os.loadavg();
  log(`profile ${profile.name} on ${os.cpus().length} cores, node ${process.version}`);
  if (!fs.existsSync(BUNDLE_PATH)) throw new Error(`${BUNDLE_PATH} is missing: run npm run build first`);

  // What is measured so far goes to results.json as it comes, so a failed run keeps it.
  const progress: Record<string, unknown> = { profile: profile.name, complete: false, startedAt: new Date(started).toISOString() };
  const save = (key: string, value: unknown) => {
    progress[key] = value;
    fs.writeFileSync(RESULTS_PATH, `${JSON.stringify(progress, null, 2)}\n`);
  };

  // 5. Lambda package (first: nothing else is running).
  const lambda: LambdaPackageResult = await measureLambdaPackage(BUNDLE_PATH, profile.lambdaRuns);
  save('lambda', lambda);
  log(`lambda bundle ${(lambda.bytes / 1024).toFixed(0)} KiB, load + clients ${lambda.medianLoadAndClientsMs.toFixed(0)} ms`);

  // 3. Decision core.
  const decision: DecisionCoreResult[] = [];
  for (const n of profile.decisionSizes) {
    decision.push(await inChild<DecisionCoreResult>({ kind: 'decide', roles: n, grantsPerRole: DECISION_GRANTS_PER_ROLE }));
    save('decision', decision);
    log(`decide ${n} roles: ${decision[decision.length - 1].decideMs.toFixed(0)} ms`);
  }

  // 4. Synth overhead.
  const synth: SynthOverheadResult = await runSynthOverhead(profile.synthRoles, profile.synthRepeats);
  save('synth', synth);
  log(`synth ${profile.synthRoles}: governed ${synth.medianGovernedMs.toFixed(0)} ms, plain ${synth.medianPlainMs.toFixed(0)} ms`);

  // 1 and 2. Sweeps against the emulator (bench/emulator/moto_server first on PATH: see moto_bench_server.py).
  // A fresh emulator for each run: a 5,000-role moto holds ~1 GB and answers a reset slowly.
  if (!args.includes('--stock-moto'))
    process.env.PATH = `${path.join(ROOT, 'bench', 'emulator')}${path.delimiter}${process.env.PATH ?? ''}`;
  const withMoto = async <T>(work: (moto: Moto) => Promise<T>): Promise<T> => {
    const moto = await startMoto();
    try {
      return await work(moto);
    } finally {
      await moto.stop();
    }
  };
  const scale: ScaleResult[] = [];
  for (const n of profile.sizes) {
    scale.push(await withMoto(moto => scaleRun(moto, n, profile.referenceSizes.includes(n))));
    save('scale', scale);
  }
  const withRef = scale.find(s => s.reference);
  const refPerRole = withRef?.reference ? withRef.reference.calls.iamReads / withRef.roles : undefined;
  const latency: LatencyResult = await withMoto(moto => latencyRun(moto, profile.latencyRoles, refPerRole));

  // Targets.
  const refRun = [...scale].reverse().find(s => s.reference);
  const biggest = scale[scale.length - 1];
  const big = decision[decision.length - 1];
  const small = decision[0];
  const targets: Target[] = [
    {
      name: `IAM reads, per-role reader ÷ ours (${refRun?.roles} roles)`,
      target: '≥ 20×',
      figure: refRun
        ? `${refRun.reference!.calls.iamReads} ÷ ${refRun.ours.calls.iamReads} = ${refRun.iamReadRatio!.toFixed(0)}×`
        : 'not run',
      met: refRun ? refRun.iamReadRatio! >= 20 && refRun.reference!.samePlan : undefined,
      note:
        refRun && refRun.roles !== 1000
          ? 'quick profile: judged at the size where the reference ran; the full run judges 1,000'
          : undefined,
    },
    ...scale.map(s => ({
      name: `writes = changes + their records (${s.roles} roles)`,
      target: 'equal',
      figure: `IAM ${s.writeCheck.iamCounted}/${s.writeCheck.iamExpected}, ledger ${s.writeCheck.ledgerCounted}/${s.writeCheck.ledgerExpected}, events ${s.writeCheck.eventsCounted}/${s.writeCheck.eventsExpected}, notices ${s.writeCheck.notificationsCounted}/${s.writeCheck.notificationsExpected}`,
      met: s.writeCheck.ok,
    })),
    {
      name: `sweep with ${LATENCY_MS} ms latency, ${IAM_RATE_PER_S} IAM calls/s (${latency.roles} roles)`,
      target: '≤ 1.5× lower bound',
      figure: `${fmtS(latency.wallMs)} ÷ ${fmtS(latency.lowerBoundMs)} = ${latency.ratio.toFixed(2)}×`,
      met: latency.ratio <= 1.5,
      note: latency.roles !== 1000 ? 'quick profile: 100 roles; the full run judges 1,000' : undefined,
    },
    {
      name: `decision core, ${big.roles.toLocaleString('en')} roles × ${big.grantsPerRole} grants`,
      target: '< 2 s',
      figure: fmtS(big.decideMs),
      met: big.decideMs < 2000,
    },
    {
      name: `sweep peak memory (${biggest.roles} roles)`,
      target: '< 256 MB RSS',
      figure: `${biggest.ours.memory.peakRssMb.toFixed(0)} MB RSS (heap ${biggest.ours.memory.peakHeapUsedMb.toFixed(0)} MB)`,
      met: biggest.ours.memory.peakRssMb < 256,
      note: biggest.roles !== 5000 ? 'quick profile: largest quick size; the full run judges 5,000' : undefined,
    },
    {
      name: `synth, ${synth.roles} GovernedAgentRoles ÷ plain roles`,
      target: '≤ 1.5×',
      figure: synth.available ? `${synth.ratio.toFixed(2)}×` : 'construct not available',
      met: synth.available ? synth.ratio <= 1.5 : undefined,
    },
    {
      name: 'sweeper bundle size',
      target: '< 1.5 MB',
      figure: `${(lambda.bytes / 1048576).toFixed(2)} MB (gzip ${(lambda.gzipBytes / 1048576).toFixed(2)} MB)`,
      met: lambda.bytes < 1.5 * 1048576,
    },
    {
      name: 'bundle load + client construction',
      target: '< 300 ms',
      figure: `${lambda.medianLoadAndClientsMs.toFixed(0)} ms (load alone ${lambda.medianLoadMs.toFixed(0)} ms)`,
      met: lambda.medianLoadAndClientsMs < 300,
    },
  ];

  const results = {
    profile: profile.name,
    complete: true,
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      totalMemMb: Math.round(os.totalmem() / 1048576),
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    startedAt: new Date(started).toISOString(),
    totalMs: Date.now() - started,
    scale,
    latency,
    decision,
    synth,
    lambda,
    targets,
  };
  fs.writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);

  const out: string[] = [];
  out.push(
    `\npermission-decay benchmark (${profile.name}) — ${os.cpus().length} cores, node ${process.version}, load average ${loadAtStart[0].toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end\n`,
  );
  out.push('1. Sweep against the emulator (loopback, no latency): calls counted by SDK middleware');
  out.push(
    table(
      ['roles', 'reader', 'IAM reads', 'IAM writes', 'other reads', 'other writes', 'wall', 'IAM read ratio', 'same plan'],
      scale.flatMap(s => [
        ...(s.oursReadDecide
          ? [
              [
                s.roles,
                'ours: read + decide',
                s.oursReadDecide.calls.iamReads,
                s.oursReadDecide.calls.iamWrites,
                s.oursReadDecide.calls.otherReads,
                s.oursReadDecide.calls.otherWrites,
                fmtS(s.oursReadDecide.wallMs),
                '1×',
                '-',
              ],
            ]
          : []),
        ...(s.reference
          ? [
              [
                s.roles,
                'per-role: read + decide',
                s.reference.calls.iamReads,
                s.reference.calls.iamWrites,
                s.reference.calls.otherReads,
                s.reference.calls.otherWrites,
                fmtS(s.reference.wallMs),
                `${s.iamReadRatio!.toFixed(0)}×`,
                s.reference.samePlan ? 'yes' : 'NO',
              ],
            ]
          : []),
        [
          s.roles,
          'ours: full sweep',
          s.ours.calls.iamReads,
          s.ours.calls.iamWrites,
          s.ours.calls.otherReads,
          s.ours.calls.otherWrites,
          fmtS(s.ours.wallMs),
          '',
          '',
        ],
      ]),
    ),
  );
  out.push(
    table(
      ['roles', 'revoked', 'renewed', 'drift', 'records', 'failed', 'peak RSS', 'peak heap', 'seed time'],
      scale.map(s => [
        s.roles,
        s.ours.plan.byDecision.revoked ?? 0,
        s.ours.plan.byDecision.renewed ?? 0,
        s.ours.plan.byDecision.drift ?? 0,
        s.ours.plan.records,
        s.ours.failed,
        `${s.ours.memory.peakRssMb.toFixed(0)} MB`,
        `${s.ours.memory.peakHeapUsedMb.toFixed(0)} MB`,
        fmtS(s.seedMs),
      ]),
    ),
  );
  out.push(
    `   full-sweep calls at ${biggest.roles} roles (count, time waiting on the emulator): ${Object.entries(biggest.ours.calls.byCommand)
      .map(([k, v]) => `${k} ${v} (${fmtS(biggest.ours.calls.msByCommand[k])})`)
      .join(', ')}`,
  );
  out.push(
    `\n2. Sweep through the proxy: ${LATENCY_MS} ms a call, IAM ${IAM_RATE_PER_S} calls/s (token bucket, burst 1), ${latency.roles} roles`,
  );
  out.push(
    table(
      ['measured', 'lower bound', 'ratio', 'IAM reads', 'IAM writes', 'other calls', 'rate-limit wait', 'per-role reader (projected)'],
      [
        [
          fmtS(latency.wallMs),
          fmtS(latency.lowerBoundMs),
          `${latency.ratio.toFixed(2)}×`,
          latency.calls.iamReads,
          latency.calls.iamWrites,
          latency.calls.otherReads + latency.calls.otherWrites,
          fmtS(latency.rateLimitWaitMs),
          latency.referenceProjectedMs !== undefined ? fmtS(latency.referenceProjectedMs) : '-',
        ],
      ],
    ),
  );
  out.push(`   lower bound = ${latency.lowerBoundFormula}`);
  out.push(
    `   GetAccountAuthorizationDetails pages: ${latency.iamReadPagesAsMade} as made (the emulator does not paginate it); real IAM with MaxItems ${GAAD_MAX_ITEMS}: ceil(${latency.roles} roles / ${GAAD_MAX_ITEMS}) + 0 policy pages = ${latency.iamReadPagesRealIam}` +
      ` (readSnapshot asks for MaxItems ${GAAD_MAX_ITEMS}; at IAM's default page of 100 it would take ${Math.ceil(latency.roles / 100)})`,
  );
  const waitBy: Record<string, number> = {};
  for (const [k, v] of Object.entries(latency.calls.msByCommand)) waitBy[k.split(':')[0]] = (waitBy[k.split(':')[0]] ?? 0) + v;
  out.push(
    `   time the sweep spent waiting, by service: ${Object.entries(waitBy)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmtS(v)}`)
      .join(', ')}`,
  );
  out.push(
    `   other services' calls (ledger, specs, renewals, events, notices), if made one after another: ${latency.calls.otherReads + latency.calls.otherWrites} × ${LATENCY_MS} ms = ${fmtS(latency.otherCallsSequentialMs)}`,
  );
  if (latency.referenceProjectedMs !== undefined)
    out.push(
      '   per-role reader projected = (its IAM reads per role at the reference size × roles + the same writes) ÷ IAM rate (not measured through the proxy)',
    );
  out.push('\n3. Decision core (in memory, pure decide; fresh process with --expose-gc)');
  out.push(
    table(
      ['roles', 'grants/role', 'steps', 'decide', 'per role', 'inputs heap', 'peak heap', 'retained heap', 'peak RSS'],
      decision.map(d => [
        d.roles,
        d.grantsPerRole,
        d.steps,
        fmtS(d.decideMs),
        `${((d.decideMs * 1000) / d.roles).toFixed(1)} µs`,
        `${d.inputsHeapMb.toFixed(0)} MB`,
        `${d.peakHeapMb.toFixed(0)} MB`,
        `${d.retainedHeapMb.toFixed(0)} MB`,
        `${d.peakRssMb.toFixed(0)} MB`,
      ]),
    ),
  );
  out.push(
    `   time ratio ${big.roles}/${small.roles} roles: ${(big.decideMs / small.decideMs).toFixed(1)}× for ${(big.roles / small.roles).toFixed(0)}× the roles`,
  );
  out.push(`\n4. Synth: ${synth.roles} roles, ${synth.grantsPerRole} grants each, median of ${synth.repeats}`);
  out.push(
    synth.available
      ? table(
          ['GovernedAgentRole', 'plain iam.Role', 'ratio'],
          [[fmtS(synth.medianGovernedMs), fmtS(synth.medianPlainMs), `${synth.ratio.toFixed(2)}×`]],
        )
      : `   ${synth.reason}`,
  );
  out.push(
    `\n5. Lambda package: ${path.relative(ROOT, BUNDLE_PATH)} ${(lambda.bytes / 1024).toFixed(0)} KiB (gzip ${(lambda.gzipBytes / 1024).toFixed(0)} KiB); median of ${lambda.runs} fresh processes: load ${lambda.medianLoadMs.toFixed(0)} ms, load + clients + first (refused) call ${lambda.medianLoadAndClientsMs.toFixed(0)} ms`,
  );
  out.push('\nTargets');
  out.push(
    table(
      ['target', 'goal', 'figure', 'result'],
      targets.map(t => [t.name, t.target, t.figure, t.met === undefined ? 'n/a' : t.met ? 'met' : 'MISSED']),
    ),
  );
  for (const t of targets) if (t.note) out.push(`   ${t.name}: ${t.note}`);
  out.push(`\nwrote ${path.relative(ROOT, RESULTS_PATH)} in ${fmtS(Date.now() - started)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  void median;
}

main().catch(e => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

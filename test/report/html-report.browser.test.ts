/**
 * The HTML report in a real headless browser (Debian's chromium, installed by
 * scripts/install-browser.sh; driven by playwright-core): the page that
 * `report --html` writes from a ledger built on the emulator by real sweeps
 * and a renewal, and the example app's governance report, loads with no
 * console error and no request beyond its own file, and shows every grant the
 * ledger holds. A screenshot goes to docs/report-screenshot.png (the README
 * shows it). A page of hostile ledger text runs none of it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { App } from 'aws-cdk-lib';
import { BrowserContext, chromium } from 'playwright-core';
import { buildExampleApp } from '../../bin/example-app';
import { renderHtmlReport } from '../../lib/cli/html-report';
import { GovernanceReport, REPORT_JSON_FILE } from '../../lib/analysis';
import { readRecords } from '../../lib/sweeper/ledger';
import {
  createGovernedRole,
  createIdentity,
  runCli,
  TEST_LEDGER_TABLE,
  testClients,
  useEmulatorWithLedger,
} from '../support/governed-fixtures';
import { Moto } from '../support/moto';
import { hostileLedger } from './html-fixtures';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'report-screenshot.png');

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

let assembly: string;
let work: string;
let context: BrowserContext;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install-browser.sh (npm test does)`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-html-'));
  assembly = path.join(work, 'cdk.out');
  buildExampleApp(new App({ outdir: assembly })).app.synth();
  context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await context?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Opens a file and collects what the page did: console errors, uncaught errors, dialogs and every request. */
async function open(file: string) {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', m => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', d => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', r => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems, requests };
}

test('the page of a real ledger loads cleanly, shows every grant, and is screenshotted', async () => {
  // The example app's agents, governed on the emulator, with a life the ledger records.
  const support = await createGovernedRole(clients, {
    agentId: 'support-bot',
    baseline: [{ name: 'baseline' }],
    grants: [
      { name: 'tickets-read', expiresAt: '2030-01-09T00:00:00Z' },
      { name: 'customer-db-read', expiresAt: '2030-01-11T00:00:00Z', requestedBy: 'bob', inSpec: true },
    ],
    drift: [{ name: 'debug-everything' }],
  });
  const ops = await createGovernedRole(clients, {
    agentId: 'ops-bot',
    baseline: [{ name: 'baseline' }],
    grants: [{ name: 'runbooks-write', expiresAt: '2030-01-15T00:00:00Z' }],
  });
  const alice = await createIdentity(clients.iam, 'alice');
  expect((await runCli(moto.endpoint, ['sweep', '--now', '2030-01-10T00:00:00Z'])).code).toBe(0);
  const renewed = await runCli(
    moto.endpoint,
    ['renew', '--role', 'support-bot', '--grant', 'customer-db-read', '--until', '2030-01-14T00:00:00Z', '--ticket', 'SEC-2'],
    alice.credentials,
    '2030-01-10T01:00:00Z',
  );
  expect(renewed.err).toBe('');
  expect((await runCli(moto.endpoint, ['sweep', '--now', '2030-01-12T00:00:00Z'])).code).toBe(0);
  expect((await runCli(moto.endpoint, ['sweep', '--now', '2030-01-18T00:00:00Z'])).code).toBe(0);

  // The oracle: the grants the ledger itself holds, read directly.
  const expected: Record<string, string[]> = {};
  for (const [agentId, role] of [
    ['support-bot', support.roleName],
    ['ops-bot', ops.roleName],
  ]) {
    const records = await readRecords(clients.ddb, TEST_LEDGER_TABLE, role);
    expected[agentId] = [...new Set(records.filter(r => r.grant).map(r => r.grant!))].sort();
  }
  expect(expected['support-bot']).toEqual(['customer-db-read', 'debug-everything', 'tickets-read']);
  expect(expected['ops-bot']).toEqual(['runbooks-write']);

  const file = path.join(work, 'report.html');
  const run = await runCli(moto.endpoint, ['report', '--html', '--assembly', assembly, '--out', file]);
  expect(run.err).toBe('');
  expect(run.out).toMatch(/^Wrote .*report\.html: 2 agent\(s\), \d+ ledger record\(s\) of 2 role\(s\)/);

  const { page, problems, requests } = await open(file);
  expect(problems).toEqual([]);
  expect(requests).toEqual([pathToFileURL(file).href]);
  for (const [agentId, grants] of Object.entries(expected)) {
    const section = page.locator(`section.agent[data-agent="${agentId}"]`);
    await expect(section.count()).resolves.toBe(1);
    const shown = await section.locator('table.grants tbody tr td:first-child').allTextContents();
    expect(shown.sort()).toEqual(grants);
    // Its timeline has a row per grant and a marker per record; its graph and inventory are drawn.
    expect(await section.locator('svg.timeline g.mark').count()).toBeGreaterThanOrEqual(grants.length);
    expect(await section.locator('svg.graph, p.empty').count()).toBeGreaterThan(0);
  }
  // ops-bot delegates to support-bot in the example app: an edge of ops-bot's graph.
  expect(await page.locator('section.agent[data-agent="ops-bot"] svg.graph g.edge title').allTextContents()).toEqual(
    expect.arrayContaining([expect.stringMatching(/^ops-bot → support-bot via /)]),
  );
  // The revocation and the renewal are on support-bot's timeline.
  const decisions = await page
    .locator('section.agent[data-agent="support-bot"] svg.timeline g.mark')
    .evaluateAll(marks => marks.map(m => m.getAttribute('data-decision')));
  expect(decisions).toEqual(expect.arrayContaining(['revoked', 'renewed', 'drift']));
  // The filter (the page's one script) hides other agents.
  await page.fill('#filter', 'ops');
  expect(await page.locator('section.agent:not(.hidden)').evaluateAll(s => s.map(x => x.getAttribute('data-agent')))).toEqual(['ops-bot']);
  await page.fill('#filter', '');

  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const png = fs.readFileSync(SCREENSHOT);
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.length).toBeGreaterThan(20_000);
  await page.close();
});

test('a page of hostile ledger text runs none of it', async () => {
  const report = JSON.parse(fs.readFileSync(path.join(assembly, REPORT_JSON_FILE), 'utf8')) as GovernanceReport;
  const file = path.join(work, 'hostile.html');
  const ledger = hostileLedger('support-bot');
  fs.writeFileSync(file, renderHtmlReport({ report, ledger, ledgerTable: 'ledger', generatedAt: '2030-01-01T00:00:00Z' }));
  const { page, problems, requests } = await open(file);
  expect(problems).toEqual([]);
  expect(requests).toEqual([pathToFileURL(file).href]);
  expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  // The hostile text is shown as text.
  const grants = await page.locator('section.agent[data-agent="support-bot"] table.grants').innerText();
  expect(grants).toContain('<script>window.__pwned=1</script>');
  await page.close();
});

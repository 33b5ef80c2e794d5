/**
 * The HTML report's page, without a browser: self-contained (no URL it could
 * load), every ledger and tag text escaped (an agent writes its own tags), and
 * every grant of the ledger on it. The browser test (html-report.browser.test.ts)
 * opens it in Chromium.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { escapeHtml, renderHtmlReport } from '../../lib/cli/html-report';
import { GovernanceReport } from '../../lib/analysis';
import { agent, newApp, synthReport } from './governance-fixtures';
import { HOSTILE, hostileLedger } from './html-fixtures';

let report: GovernanceReport;
beforeAll(() => {
  const { app, stack } = newApp();
  const bucket = new s3.Bucket(stack, 'Drafts');
  const a = agent(stack, 'agent-a');
  const b = agent(stack, 'agent-b', { baseline: [new iam.PolicyStatement({ actions: ['cloudwatch:ListMetrics'], resources: ['*'] })] });
  bucket.grantPut(b);
  a.allowDelegationTo(b);
  report = synthReport(app).report;
});

test('escapeHtml escapes the five characters that end a text or an attribute', () => {
  expect(escapeHtml('<a href="x">\'&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('hostile ledger text is escaped everywhere: no tag or handler it wrote reaches the page', () => {
  const page = renderHtmlReport({ report, ledger: hostileLedger(), ledgerTable: 'ledger', generatedAt: '2027-01-05T00:00:00Z' });
  for (const h of HOSTILE) expect(page).not.toContain(h);
  // No element it wrote (tags are checked, not the escaped text that names them), and no element with an event handler.
  expect(page).not.toMatch(/<img|<svg onload/i);
  expect(page).not.toMatch(/<[^>]*\son\w+=/i);
  // Exactly one script element: the page's own filter.
  expect(page.match(/<script/g)).toHaveLength(1);
  // The text is still there, escaped, for a person to read.
  expect(page).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
});

test('self-contained: no URL to load (only the SVG namespace), a CSP that forbids any fetch, and the script allowed by its hash', () => {
  const page = renderHtmlReport({ report, ledger: hostileLedger(), ledgerTable: 'ledger', generatedAt: '2027-01-05T00:00:00Z' });
  const urls = [...page.matchAll(/\b(?:https?:)?\/\/[^\s"'<>)]+/g)].map(m => m[0]);
  expect([...new Set(urls)]).toEqual(['http://www.w3.org/2000/svg']);
  expect(page).not.toMatch(/<(link|img|iframe|object|embed|base)\b|<[^>]*\s(src|href)=|@import|url\((?!#)/i);
  const q = '&#39;';
  expect(page).toContain(
    `<meta http-equiv="Content-Security-Policy" content="default-src ${q}none${q}; style-src ${q}unsafe-inline${q}; ` +
      `script-src ${q}sha256-`,
  );
});

test("every agent of the report and of the ledger has a section; every grant of the ledger is in its agent's table", () => {
  const page = renderHtmlReport({ report, ledger: hostileLedger(), ledgerTable: 'ledger', generatedAt: '2027-01-05T00:00:00Z' });
  for (const a of ['agent-a', 'agent-b']) expect(page).toContain(`data-agent="${a}"`);
  const b = page.slice(page.indexOf('data-agent="agent-b"'));
  const grants = b.slice(b.indexOf('<table class="grants">'), b.indexOf('</table>'));
  expect(grants).toContain('<td>g1</td>');
  expect(grants).toContain('<td>by-hand</td>');
  // The delegation from agent-a to agent-b is an edge of agent-a's graph.
  const a = page.slice(page.indexOf('data-agent="agent-a"'), page.indexOf('data-agent="agent-b"'));
  expect(a).toMatch(/<title>agent-a → agent-b via /);
});

test('without the ledger the page says so and still shows graph and inventory', () => {
  const page = renderHtmlReport({ report, generatedAt: '2027-01-05T00:00:00Z' });
  expect(page).toContain('The ledger was not read.');
  expect(page).toContain('Store inventory');
  expect(page).not.toContain('class="grants"');
});

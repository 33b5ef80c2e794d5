/**
 * demo-report.md renders as it reads in the terminal: Markdown joins lines
 * that touch into one paragraph, so headings, paragraphs, commands (indented
 * code) and checks (a list) must each be set apart by a blank line. The oracle
 * is a line classifier written here, not the narrator's own formatting.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Narrator } from '../../demo/narrator';

type Kind = 'heading' | 'code' | 'list' | 'text';
function kindOf(line: string): Kind {
  if (/^#{1,6} /.test(line)) return 'heading';
  if (/^ {4}/.test(line)) return 'code';
  if (/^- /.test(line)) return 'list';
  return 'text';
}

/** Pairs of touching lines that Markdown would run together into one block of the wrong kind. */
function runTogether(markdown: string): string[] {
  const lines = markdown.split('\n');
  const problems: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const [a, b] = [lines[i - 1], lines[i]];
    if (!a.trim() || !b.trim()) continue;
    const [ka, kb] = [kindOf(a), kindOf(b)];
    const sameBlock = ka === kb && ka !== 'heading' && ka !== 'text';
    if (!sameBlock) problems.push(`${i}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  }
  return problems;
}

test('the report sets every heading, paragraph, command and check list apart, and each check is a list item', () => {
  const echoed: string[] = [];
  const n = new Narrator(t => echoed.push(t));
  n.say('# demo');
  n.say('Emulator listening.');
  n.section('1. Deploy', 'Why this step.');
  n.say('Synthesized.');
  n.command('npx cdk deploy', 'line one\n\nline two\n');
  n.check('first claim', true);
  n.check('second claim', false, 'detail');
  n.say('\nStatus:');
  n.command('permission-decay status', 'ROLE  STATE');
  n.check('third claim', true);
  n.section('2. Next');
  n.check('fourth claim', true);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-report-'));
  try {
    const file = path.join(dir, 'report.md');
    n.writeReport(file, '# report\n\nRun at some instant.');
    const report = fs.readFileSync(file, 'utf8');
    expect(runTogether(report)).toEqual([]);
    expect(report).toContain('- ok    first claim\n- FAIL  second claim (detail)\n');
    expect(report).toContain('\n    $ npx cdk deploy\n    line one\n    line two\n');
    expect(report).toMatch(/1 of 4 checks FAILED:\n\n- 1\. Deploy: second claim\n\n/);
    // The terminal sees what the report holds, after the summary.
    expect(report.endsWith(echoed.join(''))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the classifier catches lines that run together', () => {
  expect(runTogether('Some text\n- ok  a check')).toHaveLength(1);
  expect(runTogether('## Heading\nparagraph')).toHaveLength(1);
  expect(runTogether('text\n    $ cmd')).toHaveLength(1);
  expect(runTogether('- a\n- b\n\n    $ x\n    y')).toEqual([]);
});

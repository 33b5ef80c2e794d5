/**
 * The CLI's help: every command has its own page (summary, every flag, an
 * example) reached by `<cmd> --help`, `<cmd> -h` and `help <cmd>`; the global
 * help lists every command; --version prints package.json's version. No AWS
 * call is made (the endpoint is unreachable on purpose).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { commandHelps, main } from '../../lib/cli/main';
import { memoryIo } from '../support/governed-fixtures';

const NOWHERE = 'http://127.0.0.1:9';

async function run(args: string[]) {
  const io = memoryIo(NOWHERE);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

// The oracle for the command list is the README's and the old usage's list, not the registry itself.
const EXPECTED_COMMANDS = ['ledger init', 'sweep', 'status', 'request', 'renew', 'restore', 'history', 'report', 'requests', 'activity'];

test('the registry has every documented command', () => {
  expect(Object.keys(commandHelps())).toEqual(expect.arrayContaining(EXPECTED_COMMANDS));
});

describe.each(EXPECTED_COMMANDS)('%s', name => {
  const words = name.split(' ');
  test('--help, -h and help <cmd> print the same page: summary, every flag, an example', async () => {
    const pages = await Promise.all([run([...words, '--help']), run([...words, '-h']), run(['help', ...words])]);
    for (const p of pages) {
      expect(p.code).toBe(0);
      expect(p.err).toBe('');
    }
    expect(pages[1].out).toBe(pages[0].out);
    expect(pages[2].out).toBe(pages[0].out);
    const page = pages[0].out;
    const help = commandHelps()[name];
    expect(page.split('\n')[0]).toBe(`permission-decay ${name}: ${help.summary}`);
    expect(help.summary.length).toBeGreaterThan(10);
    for (const flag of Object.keys(help.options)) expect(page).toContain(`--${flag}`);
    for (const flag of ['--json', '--ledger-table', '--region', '--help']) expect(page).toContain(flag);
    expect(help.examples.length).toBeGreaterThan(0);
    const examples = page.slice(page.indexOf('Example'));
    for (const e of help.examples) {
      expect(examples).toContain(`  ${e}`);
      expect(e.startsWith(`permission-decay ${name}`)).toBe(true);
    }
  });

  test('--help with other flags still prints help and runs nothing', async () => {
    const r = await run([...words, '--role', 'x', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`permission-decay ${name}:`);
  });

  test("every example parses: its flags are the command's own", async () => {
    for (const e of commandHelps()[name].examples) {
      const flags = e.split(' ').filter(w => w.startsWith('--'));
      const known = [...Object.keys(commandHelps()[name].options), 'json', 'ledger-table', 'region'].map(f => `--${f}`);
      for (const f of flags) expect(known).toContain(f);
    }
  });
});

describe('global help and version', () => {
  test.each([[['--help']], [['-h']], [['help']]])('%j lists every command with its summary', async args => {
    const r = await run(args);
    expect(r.code).toBe(0);
    for (const name of EXPECTED_COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${name} +${escape(commandHelps()[name].summary)}$`, 'm'));
    expect(r.out).toContain('--version');
  });

  test('no command at all prints the help on stderr and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: permission-decay <command>');
  });

  test("--version prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${pkg.version}\n`);
  });

  test('help for a command that does not exist exits 2 and lists the commands', async () => {
    const r = await run(['help', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no command "frobnicate" to help with; commands: ledger init, sweep/);
  });

  test('an unknown command points to --help', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "frobnicate".*permission-decay --help/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('report --out without --html says to add --html', async () => {
  const r = await run(['report', '--out', 'x.html']);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/report --out FILE writes the page of --html: add --html/);
});

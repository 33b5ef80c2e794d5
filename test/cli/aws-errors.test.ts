/**
 * AWS errors name the command, the API call, the endpoint and the region, and
 * say what to check: for every command that calls AWS, against an endpoint
 * that answers HTTP 500 with broken XML (as the emulator does for
 * GetAccountAuthorizationDetails after `cdk bootstrap`), against one that is
 * not listening, and with no region at all.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { main } from '../../lib/cli/main';
import { memoryIo } from '../support/governed-fixtures';

let broken: http.Server;
let brokenEndpoint: string;
let closedEndpoint: string;

beforeAll(async () => {
  // A server that answers every call as a failing emulator does: HTTP 500 and a body that is no XML or JSON error.
  broken = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body><h1>Internal Server Error</b></html>');
    });
  });
  await new Promise<void>(r => broken.listen(0, '127.0.0.1', r));
  brokenEndpoint = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  // A port that was free a moment ago and is closed now: connection refused.
  const probe = http.createServer();
  await new Promise<void>(r => probe.listen(0, '127.0.0.1', r));
  closedEndpoint = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>(r => probe.close(() => r()));
});
afterAll(async () => {
  await new Promise<void>(r => broken.close(() => r()));
});

async function run(args: string[], endpoint: string) {
  const io = memoryIo(endpoint);
  const code = await main([...args, '--json'], io);
  return { code, err: io.err(), error: JSON.parse(io.out()).error as { code: string; message: string } };
}

// Each command that calls AWS, with the service its first call goes to.
const COMMANDS: [string[], RegExp][] = [
  [['ledger', 'init'], /DynamoDB DescribeTable/],
  [['sweep'], /(IAM|SSM|DynamoDB) \w+/],
  [['status'], /(IAM|SSM|DynamoDB) \w+/],
  [
    [
      'request',
      '--role',
      'bot',
      '--grant',
      'g',
      '--policy-arn',
      'arn:aws:iam::123456789012:policy/g',
      '--until',
      '2030-01-01T00:00:00Z',
      '--ticket',
      'T-1',
      '--reason',
      'r',
    ],
    /IAM \w+/,
  ],
  [['renew', '--role', 'bot', '--grant', 'g', '--until', '2030-01-01T00:00:00Z', '--ticket', 'T-1'], /IAM \w+/],
  [['restore', '--role', 'bot', '--grant', 'g'], /IAM \w+/],
  [['history', '--role', 'bot'], /IAM \w+/],
  [['history', '--verify'], /(IAM|SSM|DynamoDB) \w+/],
];

describe.each(COMMANDS)('%j', (args, call) => {
  const command = args[0] === 'ledger' ? 'ledger init' : args[0];

  test('an endpoint answering HTTP 500 with broken XML: the command, call, endpoint, region and what to check', async () => {
    const r = await run(args, brokenEndpoint);
    expect(r.code).toBe(1);
    const m = r.error.message;
    expect(m.startsWith(`${command}: `)).toBe(true);
    expect(m).toMatch(call);
    expect(m).toContain(`at ${brokenEndpoint}`);
    expect(m).toContain('(region us-east-1)');
    expect(m).toContain('HTTP 500');
    expect(m).toMatch(/Check that http:\/\/127\.0\.0\.1:\d+\/? is a healthy AWS API endpoint/);
    expect(r.err).toContain(m);
  });

  test('an endpoint that is not listening: says to check it is reachable', async () => {
    const r = await run(args, closedEndpoint);
    expect(r.code).toBe(1);
    expect(r.error.message).toMatch(call);
    expect(r.error.message).toContain(`at ${closedEndpoint}`);
    expect(r.error.message).toMatch(/Check that the endpoint http:\/\/127\.0\.0\.1:\d+\/? is reachable/);
  });
});

test('status on an emulator that cannot serve GetAccountAuthorizationDetails names that call and the XML it could not parse', async () => {
  // As moto after `cdk bootstrap`: that one IAM call answers HTTP 500 with a body that is no XML; every JSON call answers empty.
  const partial = http.createServer((req, res) => {
    let body = '';
    req.on('data', c => {
      body += c;
    });
    req.on('end', () => {
      if (body.includes('Action=GetAccountAuthorizationDetails')) {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html><body><h1>Internal Server Error</b></html>');
      } else {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end('{}');
      }
    });
  });
  await new Promise<void>(r => partial.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(partial.address() as AddressInfo).port}`;
    const r = await run(['status'], endpoint);
    expect(r.code).toBe(1);
    // IAM answers XML; the SDK's own words for the broken body stay in the message.
    expect(r.error.message).toMatch(
      /^status: IAM GetAccountAuthorizationDetails at http:\/\/127\.0\.0\.1:\d+\/? \(region us-east-1\) failed with HTTP 500: .*XML/s,
    );
    expect(r.error.message).toContain(`at ${endpoint}`);
  } finally {
    await new Promise<void>(r => partial.close(() => r()));
  }
});

describe('no region', () => {
  const saved: Record<string, string | undefined> = {};
  const vars = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'];
  beforeEach(() => {
    for (const v of vars) saved[v] = process.env[v];
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  });
  afterEach(() => {
    for (const v of vars)
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
  });

  test('says how to set one (AWS_REGION or --region)', async () => {
    const io = memoryIo(brokenEndpoint);
    const { region: _region, ...settings } = io.clientSettings!;
    const code = await main(['ledger', 'init'], { ...io, clientSettings: settings });
    expect(code).toBe(1);
    expect(io.err()).toMatch(/ledger init: DynamoDB DescribeTable .*\(region not set\) failed/);
    expect(io.err()).toMatch(/Region is missing\. No AWS region is set: export AWS_REGION=<region>.*--region <region>/);
  });

  test('control: --region sets it (the call then reaches the endpoint)', async () => {
    const io = memoryIo(brokenEndpoint);
    const { region: _region, ...settings } = io.clientSettings!;
    const code = await main(['ledger', 'init', '--region', 'eu-west-1'], { ...io, clientSettings: settings });
    expect(code).toBe(1);
    expect(io.err()).toContain('(region eu-west-1)');
    expect(io.err()).toContain('HTTP 500');
  });
});

test('report names the missing assembly and how to make it (it calls no AWS)', async () => {
  const io = memoryIo(closedEndpoint);
  const code = await main(['report', '--assembly', '/nonexistent/cdk.out'], io);
  expect(code).toBe(2);
  expect(io.err()).toMatch(/no governance report at \/nonexistent\/cdk\.out\/permission-decay\.governance\.json: run cdk synth first/);
});

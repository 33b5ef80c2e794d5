/** The latency / rate-limit proxy: adds latency, limits the rate, lets a hook answer or drop, and forwards faithfully. */
import { GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { AwsProxy, identifyRequest, startAwsProxy, TokenBucket } from '../support/aws-proxy';
import { clientConfig, Moto, startMoto } from '../support/moto';

let moto: Moto;
const proxies: AwsProxy[] = [];
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await moto?.stop();
});

async function proxy(options: Omit<Parameters<typeof startAwsProxy>[0], 'target'>): Promise<{ proxy: AwsProxy; iam: IAMClient }> {
  const p = await startAwsProxy({ target: moto.endpoint, ...options });
  proxies.push(p);
  return { proxy: p, iam: new IAMClient({ ...clientConfig(p.endpoint), maxAttempts: 1 }) };
}

test('forwards to the emulator and names the service and action', async () => {
  const { proxy: p, iam } = await proxy({});
  const out = await iam.send(new ListRolesCommand({}));
  expect(out.Roles).toEqual([]);
  expect(p.stats().byAction).toEqual({ 'iam:ListRoles': 1 });
  expect(p.stats().forwarded).toBe(1);
});

test('adds a fixed latency per call', async () => {
  const { iam } = await proxy({ latencyMs: 150 });
  await iam.send(new ListRolesCommand({})); // connection set-up out of the way
  const t = Date.now();
  await iam.send(new ListRolesCommand({}));
  await iam.send(new ListRolesCommand({}));
  expect(Date.now() - t).toBeGreaterThanOrEqual(300);
});

test('limits the rate with a token bucket, for the requests it applies to', async () => {
  const { proxy: p, iam } = await proxy({ rateLimit: { perSecond: 10, burst: 1, appliesTo: r => r.service === 'iam' } });
  const t = Date.now();
  await Promise.all(Array.from({ length: 6 }, () => iam.send(new ListRolesCommand({}))));
  // 1 token at start, then one each 100 ms: the 6th waits ~500 ms.
  expect(Date.now() - t).toBeGreaterThanOrEqual(450);
  expect(p.stats().rateLimitWaitMs).toBeGreaterThan(0);
});

test('a token bucket grants perSecond tokens a second after its burst', async () => {
  const bucket = new TokenBucket(20, 2);
  const t = Date.now();
  for (let i = 0; i < 6; i++) await bucket.take();
  // 2 at once, 4 more at 50 ms each.
  expect(Date.now() - t).toBeGreaterThanOrEqual(180);
});

test('the hook can answer in place of the emulator (a throttling error) or drop the connection', async () => {
  const { proxy: p, iam } = await proxy({
    onRequest: req => {
      if (req.action === 'GetRole') {
        return {
          kind: 'respond',
          status: 400,
          body: '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>',
        };
      }
      if (req.action === 'ListRoles' && req.seq === 2) return { kind: 'drop' };
      return undefined;
    },
  });
  await expect(iam.send(new GetRoleCommand({ RoleName: 'x' }))).rejects.toMatchObject({ name: 'Throttling' });
  await expect(iam.send(new ListRolesCommand({}))).rejects.toThrow();
  await expect(iam.send(new ListRolesCommand({}))).resolves.toBeDefined();
  expect(p.stats()).toMatchObject({ requests: 3, answered: 1, dropped: 1, forwarded: 1 });
});

test('identifies query-protocol and JSON-protocol requests', () => {
  const auth = {
    authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
  };
  expect(identifyRequest('POST', '/', { ...auth, 'x-amz-target': 'DynamoDB_20120810.TransactWriteItems' }, Buffer.from('{}'))).toEqual({
    service: 'dynamodb',
    action: 'TransactWriteItems',
  });
  expect(
    identifyRequest(
      'POST',
      '/',
      { authorization: auth.authorization.replace('dynamodb', 'iam') },
      Buffer.from('Action=GetAccountAuthorizationDetails&Version=2010-05-08'),
    ),
  ).toEqual({ service: 'iam', action: 'GetAccountAuthorizationDetails' });
});

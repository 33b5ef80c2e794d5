import * as net from 'net';
import { GetAccountAuthorizationDetailsCommand } from '@aws-sdk/client-iam';
import { createClients } from '../../lib/sweeper/aws-clients';

test('a call to an endpoint that never answers fails after the request timeout instead of hanging', async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer(s => {
    sockets.push(s);
  }); // accepts, never answers
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const { iam } = createClients({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 2,
      requestTimeoutMs: 300,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const started = Date.now();
    await expect(iam.send(new GetAccountAuthorizationDetailsCommand({}))).rejects.toThrow(/timeout|timed out/i);
    // Two attempts of 300 ms plus a jittered backoff: well under the 30 s default, nowhere near "forever".
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

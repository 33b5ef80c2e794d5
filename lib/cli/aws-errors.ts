/**
 * AWS errors a person can act on: every client the CLI builds notes, on any
 * error it throws, which API call failed and where (endpoint and region), and
 * the CLI prints that with what to check.
 */
import { AwsClients } from '../sweeper/aws-clients';

/** The AWS call an error came from. */
export interface AwsCall {
  /** e.g. IAM, DynamoDB. */
  readonly service: string;
  /** e.g. GetAccountAuthorizationDetails. */
  readonly operation: string;
  readonly endpoint?: string;
  readonly region?: string;
}

const CALL = Symbol.for('permission-decay.aws-call');

interface NamedClient {
  readonly middlewareStack: { add: (mw: unknown, options: Record<string, unknown>) => void };
  readonly config: { readonly region?: unknown; readonly endpoint?: unknown };
}

type Endpoint = string | URL | { protocol?: string; hostname?: string; port?: number; path?: string } | undefined;

function endpointText(ep: Endpoint): string | undefined {
  if (!ep) return undefined;
  if (typeof ep === 'string') return ep;
  if (ep instanceof URL) return ep.href;
  if (ep.hostname) return `${ep.protocol ?? 'https:'}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path ?? ''}`;
  return undefined;
}

async function valueOf(provider: unknown): Promise<unknown> {
  try {
    return typeof provider === 'function' ? await (provider as () => Promise<unknown>)() : provider;
  } catch {
    return undefined; // a region the SDK cannot find is itself the error being named
  }
}

/** Adds, to the client's own middleware, the note of the call and endpoint on any error. */
function nameCalls<T>(client: T, service: string): T {
  const c = client as unknown as NamedClient;
  c.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string; endpointV2?: { url?: URL } }) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (e) {
        if (e && typeof e === 'object' && !(CALL in e)) {
          const endpoint = endpointText(context.endpointV2?.url) ?? endpointText((await valueOf(c.config.endpoint)) as Endpoint);
          const region = await valueOf(c.config.region);
          const call: AwsCall = {
            service,
            operation: (context.commandName ?? 'unknown call').replace(/Command$/, ''),
            ...(endpoint ? { endpoint } : {}),
            ...(typeof region === 'string' ? { region } : {}),
          };
          Object.defineProperty(e, CALL, { value: call, enumerable: false });
        }
        throw e;
      }
    },
    { step: 'initialize', name: 'permissionDecayNameCalls', priority: 'high' },
  );
  return client;
}

/** The clients, each noting the call on its errors (built on first use, like the clients themselves). */
export function withNamedCalls(clients: AwsClients): AwsClients {
  const cache = new Map<string, unknown>();
  const named = <K extends keyof AwsClients>(key: K, service: string): AwsClients[K] => {
    if (!cache.has(key)) cache.set(key, nameCalls(clients[key], service));
    return cache.get(key) as AwsClients[K];
  };
  return {
    get iam() {
      return named('iam', 'IAM');
    },
    get ddb() {
      return named('ddb', 'DynamoDB');
    },
    get ssm() {
      return named('ssm', 'SSM');
    },
    get events() {
      return named('events', 'EventBridge');
    },
    get sns() {
      return named('sns', 'SNS');
    },
    get sts() {
      return named('sts', 'STS');
    },
    get kms() {
      return named('kms', 'KMS');
    },
  };
}

/** The call an error came from, when an AWS client threw it. */
export function awsCallOf(e: unknown): AwsCall | undefined {
  return e && typeof e === 'object' ? (e as { [CALL]?: AwsCall })[CALL] : undefined;
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** What to check for an error of this kind from this call: a sentence without its final stop. */
export function awsErrorHint(e: unknown, call: AwsCall): string {
  const err = (e ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? '';
  const message = err.message ?? '';
  const status = err.$metadata?.httpStatusCode;
  if (/Region is missing/i.test(message)) {
    return 'No AWS region is set: export AWS_REGION=<region> (e.g. us-east-1), pass --region <region>, or set one in your AWS profile';
  }
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/i.test(message)) {
    return (
      'Check your AWS credentials: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in again (aws sso login); ' +
      'they must be for the account the sweeper is deployed in'
    );
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'AuthorizationError') {
    return (
      `Check that your identity may call ${call.service} ${call.operation}: people get it from the sweeper's grantRequest, ` +
      'grantApprove or grantRead (see the README\'s "People\'s permissions")'
    );
  }
  if (call.service === 'DynamoDB' && name === 'ResourceNotFoundException') {
    return (
      `Check that the ledger table exists in ${call.region ?? 'the region'}: deploy the PermissionSweeper stack ` +
      '(the table is among its outputs) ' +
      'or run "permission-decay ledger init", and name it with --ledger-table or $PERMISSION_DECAY_LEDGER_TABLE'
    );
  }
  const network = NETWORK_CODES.has(err.code ?? '') || NETWORK_CODES.has(name) || name === 'TimeoutError';
  if (network || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(message)) {
    return `Check that the endpoint ${call.endpoint ?? ''} is reachable (network, proxy, AWS_ENDPOINT_URL)`.replace('  ', ' ');
  }
  if ((status !== undefined && status >= 500) || /XML parse|Deserialization error|not valid JSON|Unexpected token/i.test(message)) {
    return (
      `Check that ${call.endpoint ?? 'the endpoint'} is a healthy AWS API endpoint: it answered${status ? ` HTTP ${status}` : ''} ` +
      'with something that is not an AWS response (a local emulator answers so when it cannot serve the call; ' +
      "a wrong AWS_ENDPOINT_URL too); try again, or check the endpoint's own log"
    );
  }
  return (
    'Check your credentials and region, that the endpoint is reachable, ' +
    'and that the sweeper stack is deployed in this account and region'
  );
}

/** "<command>: <service> <operation> at <endpoint> (region R) failed: <message>. <what to check>.", or undefined when no AWS call threw. */
export function awsErrorMessage(e: unknown, command: string | undefined): string | undefined {
  const call = awsCallOf(e);
  if (!call) return undefined;
  const err = e as { message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const where = `${call.endpoint ? ` at ${call.endpoint}` : ''} (region ${call.region ?? 'not set'})`;
  return (
    `${command ? `${command}: ` : ''}${call.service} ${call.operation}${where} failed${status ? ` with HTTP ${status}` : ''}: ` +
    `${(err.message ?? String(e)).trim().replace(/\.+$/, '')}. ${awsErrorHint(e, call)}.`
  );
}

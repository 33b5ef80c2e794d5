/**
 * Read specs from SSM only when they changed. Specs change only on deploy, so
 * a sweep serves them from its cache (items in the ledger table) when every
 * governed role's spec-digest tag names the digest cached for its agent, and
 * otherwise walks SSM as readSpecs does and refreshes the cache.
 *
 * Why a forged digest cannot make the sweeper act on a stale spec:
 * - The tag is only a hint for *when* to read. Any value other than the exact
 *   digest cached for the role's agent (a missing tag, a removed or changed
 *   one, a guess) sends the whole sweep to SSM. Only the deploy's own digest
 *   skips the read.
 * - The digest is written by CloudFormation with the role, and the agent's
 *   boundary denies it every `governance:*` tag write (people's grants write
 *   only grant tags), so the agent cannot put an older digest back after a
 *   deploy changed its spec.
 * - A cache entry is written only from a spec read from SSM that carries the
 *   digest itself (the deploy writes both from one synthesis), so a deploy
 *   seen half-way (tag updated, parameter not yet, or the reverse) is read
 *   again next sweep, never cached under the new digest.
 * - The cache lives in the ledger table, which the boundary denies every
 *   governed agent writing.
 * - Whatever the tags say, a full read happens at least every
 *   SPEC_CACHE_MAX_AGE_SECONDS, which bounds any staleness we did not foresee
 *   (e.g. a spec value that changed without its template changing).
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { formatExpiry, parseExpiry, SPEC_CACHE_PARTITION, specParameterName, TAG_SPEC_DIGEST } from '../contract';
import { AccountSnapshot } from './snapshot';
import { parseSpecParameter, readSpecTexts, SpecIndex, SpecLookup } from './specs';

/** A full read of every spec at least this often, whatever the digests say. */
export const SPEC_CACHE_MAX_AGE_SECONDS = 24 * 3600;

const AGENT_PREFIX = 'AGENT#';
const LAST_READ_KEY = 'READ';

interface CachedSpec {
  readonly agentId: string;
  readonly digest: string;
  /** The parameter's value as read from SSM. */
  readonly value: string;
}

interface SpecCache {
  readonly specs: Map<string, CachedSpec>;
  /** When the last full read happened (expiry form). */
  readonly readAt?: string;
}

/** How a sweep got its specs, for its metrics and tests. */
export interface SpecRead {
  readonly specs: SpecIndex;
  /** `cache`: no SSM call; `ssm`: every spec read. */
  readonly source: 'cache' | 'ssm';
}

/**
 * The approved specs for this snapshot: from the cache when it serves every
 * governed role, else from SSM (and the cache refreshed).
 */
export async function readSpecsWhenChanged(
  ssm: SSMClient,
  ddb: DynamoDBDocumentClient,
  table: string,
  snapshot: AccountSnapshot,
  now: Date,
): Promise<SpecRead> {
  // A role without the digest (deployed before it existed, or stripped of it) means read: no cache I/O at all.
  if (snapshot.roles.length === 0 || snapshot.roles.some(r => r.tags[TAG_SPEC_DIGEST] === undefined)) {
    return { specs: indexOfTexts(await readSpecTexts(ssm)), source: 'ssm' };
  }
  const cache = await readCache(ddb, table);
  if (cacheServes(cache, snapshot, now)) return { specs: indexOf(cache), source: 'cache' };
  const texts = await readSpecTexts(ssm);
  const specs = indexOfTexts(texts);
  await refreshCache(ddb, table, cache, texts, specs, now);
  return { specs, source: 'ssm' };
}

/** True when every governed role's digest tag names its agent's cached spec, and the last full read is recent. */
export function cacheServes(cache: SpecCache, snapshot: AccountSnapshot, now: Date): boolean {
  if (cache.readAt === undefined) return false;
  let readAtMs: number;
  try {
    readAtMs = parseExpiry(cache.readAt).getTime();
  } catch {
    return false;
  }
  if (readAtMs > now.getTime() || now.getTime() - readAtMs >= SPEC_CACHE_MAX_AGE_SECONDS * 1000) return false;
  for (const role of snapshot.roles) {
    const cached = role.agentId !== undefined ? cache.specs.get(role.agentId) : undefined;
    if (!cached || cached.digest !== role.tags[TAG_SPEC_DIGEST]) return false;
    // The cached spec must be this role's: a spec naming another role would send decide to its fallback search.
    const lookup = parseSpecParameter(cached.agentId, specParameterName(cached.agentId), cached.value);
    if (lookup.spec?.roleName !== role.roleName) return false;
  }
  return true;
}

function indexOf(cache: SpecCache): SpecIndex {
  const out = new Map<string, SpecLookup>();
  for (const c of cache.specs.values()) out.set(c.agentId, parseSpecParameter(c.agentId, specParameterName(c.agentId), c.value));
  return out;
}

function indexOfTexts(texts: ReadonlyMap<string, string>): SpecIndex {
  const out = new Map<string, SpecLookup>();
  for (const [agentId, value] of texts) out.set(agentId, parseSpecParameter(agentId, specParameterName(agentId), value));
  return out;
}

async function readCache(ddb: DynamoDBDocumentClient, table: string): Promise<SpecCache> {
  const specs = new Map<string, CachedSpec>();
  let readAt: string | undefined;
  let key: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': SPEC_CACHE_PARTITION },
        ExclusiveStartKey: key,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.sk === LAST_READ_KEY && typeof item.at === 'string') readAt = item.at;
      const ok =
        typeof item.sk === 'string' &&
        item.sk.startsWith(AGENT_PREFIX) &&
        typeof item.agentId === 'string' &&
        typeof item.digest === 'string' &&
        typeof item.value === 'string';
      if (ok)
        specs.set(item.agentId as string, { agentId: item.agentId as string, digest: item.digest as string, value: item.value as string });
    }
    key = page.LastEvaluatedKey;
  } while (key);
  return { specs, readAt };
}

/**
 * Caches each spec read from SSM that carries its deploy's digest (only the
 * ones that changed are written), then the instant of this full read.
 */
async function refreshCache(
  ddb: DynamoDBDocumentClient,
  table: string,
  cache: SpecCache,
  texts: ReadonlyMap<string, string>,
  specs: SpecIndex,
  now: Date,
): Promise<void> {
  const put = (Item: Record<string, unknown>) => ddb.send(new PutCommand({ TableName: table, Item }));
  for (const [agentId, lookup] of specs) {
    const digest = lookup.spec?.digest;
    if (typeof digest !== 'string' || !digest) continue;
    const value = texts.get(agentId);
    if (value === undefined || cache.specs.get(agentId)?.value === value) continue;
    await put({ pk: SPEC_CACHE_PARTITION, sk: `${AGENT_PREFIX}${agentId}`, agentId, digest, value });
  }
  await put({ pk: SPEC_CACHE_PARTITION, sk: LAST_READ_KEY, at: formatExpiry(now) });
}

/**
 * The activity command's statement matcher judged against the policy
 * simulator (@cloud-copilot/iam-simulate) as the oracle: for every case, the
 * matcher's verdict is what IAM's evaluation says of the same document,
 * action, resource and aws:CurrentTime.
 */
import { documentVerdict } from '../../lib/sweeper/activity/statement-match';
import { simulate } from '../support/simulate';

const BUCKET = 'arn:aws:s3:::exports';
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders';
const until = (t: string) => ({ DateLessThan: { 'aws:CurrentTime': t } });
const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });

const CASES: [string, object, string, string, string][] = [
  [
    'exact action and resource',
    doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: `${BUCKET}/a.csv` }),
    's3:PutObject',
    `${BUCKET}/a.csv`,
    '2030-03-05T10:00:00Z',
  ],
  [
    'action wildcard, case-insensitive',
    doc({ Effect: 'Allow', Action: 'S3:Put*', Resource: '*' }),
    's3:PutObject',
    `${BUCKET}/a.csv`,
    '2030-03-05T10:00:00Z',
  ],
  [
    'resource wildcard',
    doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: `${BUCKET}/*` }),
    's3:PutObject',
    `${BUCKET}/x/y.csv`,
    '2030-03-05T10:00:00Z',
  ],
  [
    'resource is case-sensitive',
    doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: `${BUCKET}/A.csv` }),
    's3:PutObject',
    `${BUCKET}/a.csv`,
    '2030-03-05T10:00:00Z',
  ],
  [
    '? matches one character',
    doc({ Effect: 'Allow', Action: 's3:GetObjec?', Resource: '*' }),
    's3:GetObject',
    `${BUCKET}/a`,
    '2030-03-05T10:00:00Z',
  ],
  ['other action', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }), 's3:PutObject', `${BUCKET}/a`, '2030-03-05T10:00:00Z'],
  ['NotAction', doc({ Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' }), 's3:PutObject', `${BUCKET}/a`, '2030-03-05T10:00:00Z'],
  [
    'NotAction excluding it',
    doc({ Effect: 'Allow', NotAction: 's3:Put*', Resource: '*' }),
    's3:PutObject',
    `${BUCKET}/a`,
    '2030-03-05T10:00:00Z',
  ],
  [
    'NotResource',
    doc({ Effect: 'Allow', Action: 'dynamodb:*', NotResource: `${TABLE}-secret` }),
    'dynamodb:PutItem',
    TABLE,
    '2030-03-05T10:00:00Z',
  ],
  [
    'before the expiry',
    doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: until('2030-03-20T00:00:00Z') }),
    's3:PutObject',
    `${BUCKET}/a`,
    '2030-03-05T10:00:00Z',
  ],
  [
    'after the expiry',
    doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: until('2030-03-20T00:00:00Z') }),
    's3:PutObject',
    `${BUCKET}/a`,
    '2030-03-21T10:00:00Z',
  ],
  [
    'explicit deny wins',
    doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'dynamodb:PutItem', Resource: TABLE }),
    'dynamodb:PutItem',
    TABLE,
    '2030-03-05T10:00:00Z',
  ],
  [
    'deny that has ended',
    doc(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:PutItem', Resource: TABLE, Condition: until('2030-03-01T00:00:00Z') },
    ),
    'dynamodb:PutItem',
    TABLE,
    '2030-03-05T10:00:00Z',
  ],
];

const ORACLE: Record<string, string> = { Allowed: 'allowed', ExplicitlyDenied: 'denied', ImplicitlyDenied: 'not-allowed' };

test.each(CASES)('%s: the matcher says what the simulator says', async (_name, document, action, resource, at) => {
  const oracle = await simulate({ identityPolicies: [document], action, resource, context: { 'aws:CurrentTime': at } });
  expect(documentVerdict(document as never, action, resource, at)).toBe(ORACLE[oracle]);
});

test('a condition the ledger cannot judge is conditional: the simulator allows it with one request context and not another', async () => {
  const document = doc({
    Effect: 'Allow',
    Action: 's3:PutObject',
    Resource: '*',
    Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
  });
  const [action, resource, at] = ['s3:PutObject', `${BUCKET}/a`, '2030-03-05T10:00:00Z'];
  expect(documentVerdict(document as never, action, resource, at)).toBe('conditional');
  const withVpc = (vpc: string) =>
    simulate({ identityPolicies: [document], action, resource, context: { 'aws:CurrentTime': at, 'aws:SourceVpc': vpc } });
  expect(await withVpc('vpc-1')).toBe('Allowed');
  expect(await withVpc('vpc-2')).toBe('ImplicitlyDenied');
  const variable = doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: `${BUCKET}/\${aws:username}/*` });
  expect(documentVerdict(variable as never, action, `${BUCKET}/bob/a`, at)).toBe('conditional');
});

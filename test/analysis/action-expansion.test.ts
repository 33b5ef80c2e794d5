import {
  ActionExpander,
  expandActions,
  iamActionCatalogue,
  inMemoryActionCatalogue,
  isWriteAction,
  lookupAction,
} from '../../lib/analysis';

describe('expandActions against the installed IAM catalogue', () => {
  test.each([
    // [actions, must include, must not include]
    [['s3:getobject'], ['s3:GetObject'], ['s3:PutObject']],
    [['S3:GETOBJECT'], ['s3:GetObject'], []],
    [['s3:GetObj*'], ['s3:GetObject', 's3:GetObjectAcl', 's3:GetObjectTagging'], ['s3:PutObject', 's3:GetBucketPolicy']],
    [['s3:*'], ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], ['dynamodb:GetItem']],
    [['*'], ['s3:GetObject', 'dynamodb:PutItem', 'sts:AssumeRole'], []],
    [['logs:Put*Events'], ['logs:PutLogEvents'], ['logs:CreateLogGroup']],
    [['s3:?etObject'], ['s3:GetObject'], []],
  ])('%j expands to real catalogue actions', (actions, included, excluded) => {
    const { actions: out, unknown } = expandActions(actions);
    expect(unknown).toEqual([]);
    for (const a of included) expect(out).toContain(a);
    for (const a of excluded) expect(out).not.toContain(a);
    expect([...out].sort()).toEqual(out);
    expect(new Set(out).size).toBe(out.length);
  });

  test.each([
    [['s3:GetObjekt'], ['s3:GetObjekt']],
    [['nosuchservice:Get*'], ['nosuchservice:Get*']],
    [['s3:Zzz*'], ['s3:Zzz*']],
    [['GetObject'], ['GetObject']],
    [['s3:GetObject', 's3:GetObjekt'], ['s3:GetObjekt']],
  ])('%j reports %j as unknown', (actions, unknown) => {
    expect(expandActions(actions).unknown).toEqual(unknown);
  });

  test('NotAction allows every catalogue action except the named ones', () => {
    const all = expandActions(['*']).actions;
    const { actions, unknown } = expandActions(undefined, ['s3:*', 'iam:PassRole', 'nope:Nope']);
    expect(actions).not.toContain('s3:GetObject');
    expect(actions).not.toContain('iam:PassRole');
    expect(actions).toContain('iam:GetRole');
    expect(actions.length).toBe(all.length - expandActions(['s3:*']).actions.length - 1);
    expect(unknown).toEqual(['nope:Nope']);
  });

  test('Action and NotAction together is a malformed statement', () => {
    expect(() => expandActions(['s3:*'], ['s3:GetObject'])).toThrow(/both Action and NotAction/);
  });

  test('a service wildcard expands over services', () => {
    const out = expandActions(['s3*:PutObject']).actions;
    expect(out).toContain('s3:PutObject');
    expect(out.every(a => a.startsWith('s3'))).toBe(true);
  });
});

describe('catalogue lookups', () => {
  test('access levels come from the catalogue, including double levels', () => {
    const catalogue = iamActionCatalogue();
    expect(lookupAction(catalogue, 's3:PutObject')?.accessLevels).toEqual(['Write']);
    expect(lookupAction(catalogue, 's3:GetObject')?.accessLevels).toEqual(['Read']);
    expect(isWriteAction(lookupAction(catalogue, 'logs:PutLogEvents')!)).toBe(true);
    expect(isWriteAction(lookupAction(catalogue, 's3:PutObjectTagging')!)).toBe(true);
    expect(lookupAction(catalogue, 's3:GetObjekt')).toBeUndefined();
    expect(lookupAction(catalogue, '../../package:x')).toBeUndefined();
  });

  test('an expander caches each pattern and works on any catalogue', () => {
    const catalogue = inMemoryActionCatalogue({
      svc: { read: { name: 'Read', accessLevel: 'Read' }, write: { name: 'Write', accessLevel: 'Write' } },
    });
    const expander = new ActionExpander(catalogue);
    expect(expander.expand(['svc:*']).actions).toEqual(['svc:Read', 'svc:Write']);
    expect(expander.expandPattern('SVC:*')).toBe(expander.expandPattern('svc:*'));
    expect(expander.expand(['*']).actions).toEqual(['svc:Read', 'svc:Write']);
  });
});

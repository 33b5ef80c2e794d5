import { wildcardCovers, wildcardMatches, wildcardsIntersect } from '../../lib/analysis';

describe('wildcardMatches', () => {
  test.each([
    ['*', 'anything', true],
    ['get*', 'getobject', true],
    ['get*', 'putobject', false],
    ['g?t*', 'getobject', true],
    ['*object', 'getobject', true],
    ['*object', 'getobjects', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXcYYb', false],
    ['', '', true],
    ['?', '', false],
  ])('%s matches %s: %s', (pattern, text, expected) => {
    expect(wildcardMatches(pattern, text)).toBe(expected);
  });

  test('ignores case when asked', () => {
    expect(wildcardMatches('s3:Get*', 's3:getobject', true)).toBe(true);
    expect(wildcardMatches('s3:Get*', 's3:getobject')).toBe(false);
  });
});

describe('wildcardsIntersect', () => {
  test.each([
    ['*', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::data-*', 'arn:aws:s3:::data-pci/*', true],
    ['arn:aws:s3:::data-*', 'arn:aws:s3:::logs', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/*', true],
    ['arn:aws:s3:::*/x', 'arn:aws:s3:::b/*', true],
    ['a*c', '*b*', true],
    ['a?c', 'abd', false],
    ['${Token[Bucket.Arn]}', '${Token[Bucket.Arn]}', true],
    ['${Token[Bucket.Arn]}', 'arn:aws:s3:::b', false],
  ])('%s and %s overlap: %s', (a, b, expected) => {
    expect(wildcardsIntersect(a, b)).toBe(expected);
    expect(wildcardsIntersect(b, a)).toBe(expected);
  });
});

describe('wildcardCovers', () => {
  test.each([
    ['*', 'arn:aws:s3:::b/*', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/x*', true],
    ['arn:aws:s3:::b/x*', 'arn:aws:s3:::b/*', false],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:::b?', 'arn:aws:s3:::b*', false],
    ['arn:aws:s3:::b?', 'arn:aws:s3:::b?', true],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(wildcardCovers(outer, inner)).toBe(expected);
  });
});

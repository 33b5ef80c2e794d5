/**
 * IAM wildcard patterns (`*` any run of characters, `?` one character), as
 * used in actions and resource ARNs.
 */

/** True when `text` (no wildcards of its own) matches `pattern`. */
export function wildcardMatches(pattern: string, text: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  // Iterative glob with single backtrack point: linear in practice, no regex built from input.
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * True when some string matches both patterns: a statement resource
 * `arn:aws:s3:::data-*` and a store pattern `arn:aws:s3:::data-pci/*` overlap.
 * Dynamic programming over positions of both patterns, O(|a|·|b|).
 */
export function wildcardsIntersect(a: string, b: string): boolean {
  const seen = new Set<number>();
  const width = b.length + 1;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const id = i * width + j;
    if (seen.has(id)) continue;
    seen.add(id);
    if (i === a.length && j === b.length) return true;
    const ca = a[i];
    const cb = b[j];
    if (ca === '*') {
      stack.push([i + 1, j]); // the star ends here
      if (j < b.length && cb !== '*') stack.push([i, j + 1]); // the star absorbs what b[j] produces
    }
    if (cb === '*') {
      stack.push([i, j + 1]);
      if (i < a.length && ca !== '*') stack.push([i + 1, j]);
    }
    if (i < a.length && j < b.length && ca !== '*' && cb !== '*' && (ca === cb || ca === '?' || cb === '?')) {
      stack.push([i + 1, j + 1]);
    }
  }
  return false;
}

/**
 * True when every string `inner` matches also matches `outer` (a sufficient
 * test: it may answer false for some exotic contained pairs, never true for a
 * pair that is not contained). Used to subtract a Deny only when it surely
 * covers an Allow, so the shadow errs on the side of showing access.
 */
export function wildcardCovers(outer: string, inner: string): boolean {
  // Match `outer` against `inner` read literally, except that inner's `*` can
  // only be absorbed by a `*` of outer, and inner's `?` by a `?` or `*`.
  const memo = new Map<number, boolean>();
  const width = inner.length + 1;
  const go = (i: number, j: number): boolean => {
    const id = i * width + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === outer.length) {
      result = j === inner.length;
    } else if (outer[i] === '*') {
      result = go(i + 1, j) || (j < inner.length && go(i, j + 1));
    } else if (j === inner.length) {
      result = false;
    } else if (inner[j] === '*') {
      result = false;
    } else if (inner[j] === '?') {
      result = outer[i] === '?' && go(i + 1, j + 1);
    } else {
      result = (outer[i] === '?' || outer[i] === inner[j]) && go(i + 1, j + 1);
    }
    memo.set(id, result);
    return result;
  };
  return go(0, 0);
}

/** True when the pattern has a wildcard. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Memos of pure functions of strings, and the instants every decision compares.
 *
 * Why module-level and not passed in: each memo caches a pure function of its
 * key (a tag value, an expiry text, an instant), so a hit returns exactly what
 * a fresh computation would; no decision can depend on what is cached, or on
 * which sweep filled it. The values repeat across roles (grants declared with
 * one expiry literal and one ticket) and across the sweeps of a warm Lambda (a
 * tag keeps its value until it is renewed), which a per-sweep memo would lose.
 * Each memo is bounded and emptied when full, so a container never grows
 * without end. Per-snapshot data (a role's parsed tags, a policy's statement
 * expiries) is kept in WeakMaps keyed by the snapshot's own objects instead,
 * so it goes when the snapshot does.
 */
import { ContractError, formatExpiry, GrantTag, parseExpiry, parseGrantTag, policyNameOfGrantTag } from '../../contract';

export const MS = 1000;

const MEMO_LIMIT = 1 << 15;

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

/** A role's grant tags, read once per snapshot: renewalKeysNeeded and decide both need them. */
export interface RoleGrantTags {
  /**
   * grant, tag value, grant, tag value, ...: every grant tag key in the tags' order
   * (two keys may name one grant: they differ in case).
   */
  readonly pairs: readonly string[];
  /** parseGrantTag of each pair's value, filled when first needed: the tag, or the error's message. */
  readonly parsed: (GrantTag | string | undefined)[];
}

/*
 * Keyed by the role's tags object. A snapshot is read once and never changed
 * (every field is readonly), so the tags parsed for renewalKeysNeeded serve
 * decide, and the entry goes when the snapshot does.
 */
const grantTagsMemo = new WeakMap<object, RoleGrantTags>();

export function grantTagsOf(tags: { readonly [key: string]: string }): RoleGrantTags {
  const known = typeof tags === 'object' && tags !== null ? grantTagsMemo.get(tags) : undefined;
  if (known) return known;
  const pairs: string[] = [];
  for (const key of Object.keys(tags)) {
    const grant = policyNameOfGrantTag(key);
    if (grant !== undefined) pairs.push(grant, tags[key]);
  }
  const found: RoleGrantTags = { pairs, parsed: new Array(pairs.length / 2) };
  if (typeof tags === 'object' && tags !== null) grantTagsMemo.set(tags, found);
  return found;
}

/** Tag value -> parseGrantTag, as a value: the tag, or the error's message. */
const tagValueMemo = new Map<string, GrantTag | string>();

/** The i-th grant tag, parsed: the tag, or why it is malformed. */
export function parsedTagAt(t: RoleGrantTags, i: number): GrantTag | string {
  let parsed = t.parsed[i];
  if (parsed === undefined) {
    const value = t.pairs[2 * i + 1];
    parsed = tagValueMemo.get(value);
    if (parsed === undefined) {
      try {
        parsed = parseGrantTag(value);
      } catch (e) {
        parsed = (e as ContractError).message;
      }
      remember(tagValueMemo, value, parsed);
    }
    t.parsed[i] = parsed;
  }
  return parsed;
}

/** The index of the grant's tag (the last key naming it), or -1. */
export function tagIndexOf(t: RoleGrantTags, grant: string): number {
  for (let i = t.pairs.length / 2 - 1; i >= 0; i--) if (t.pairs[2 * i] === grant) return i;
  return -1;
}

/** True when more than one tag key names the grant. */
export function isDoubleTagged(t: RoleGrantTags, grant: string): boolean {
  let n = 0;
  for (let i = 0; i < t.pairs.length; i += 2) if (t.pairs[i] === grant && ++n > 1) return true;
  return false;
}

/** True when the i-th grant tag is the first key naming its grant. */
export function isFirstKeyOf(t: RoleGrantTags, i: number): boolean {
  for (let j = 0; j < i; j++) if (t.pairs[2 * j] === t.pairs[2 * i]) return false;
  return true;
}

/** Expiry text -> epoch ms, or NaN when the text is no expiry (parseExpiry threw). */
const expiryMemo = new Map<string, number>();

/** parseExpiry(text).getTime(); throws as parseExpiry does. */
export function expiryMs(text: string): number {
  const known = expiryMemo.get(text);
  if (known !== undefined && !Number.isNaN(known)) return known;
  const ms = parseExpiry(text).getTime();
  return remember(expiryMemo, text, ms);
}

/**
 * True when `text` is an instant in the expiry form (what parseExpiry accepts),
 * without throwing; the answer for a text is remembered either way.
 */
export function isExpiry(text: string): boolean {
  const known = expiryMemo.get(text);
  if (known !== undefined) return !Number.isNaN(known);
  let ms = NaN;
  try {
    ms = parseExpiry(text).getTime();
  } catch {
    /* not an expiry: remembered as NaN */
  }
  return !Number.isNaN(remember(expiryMemo, text, ms));
}

const formattedMemo = new Map<number, string>();

/** formatExpiry(new Date(ms)) (every role of a sweep formats the same few instants). */
export function formatMs(ms: number): string {
  const known = formattedMemo.get(ms);
  return known !== undefined ? known : remember(formattedMemo, ms, formatExpiry(new Date(ms)));
}

/** The later of two expiries (either may be missing). */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b; // the expiry form sorts as text
}

/**
 * Strong, opaque entity tags derived from the row version (xmin). Clients must not parse them;
 * the server only compares them. Weak tags never match If-Match (strong comparison, RFC 9110 13.1.1).
 */
export const toEtag = (version: string): string => `"${version}"`;

export type IfMatch = { kind: 'missing' } | { kind: 'any' } | { kind: 'tags'; versions: string[] };

/** Splits an entity-tag list (`"a", W/"b"`) into its tags. */
function tags(header: string): Array<{ weak: boolean; value: string }> {
  const out: Array<{ weak: boolean; value: string }> = [];
  const re = /\s*(W\/)?"([^"]*)"\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header)) !== null) {
    out.push({ weak: Boolean(m[1]), value: m[2] });
    if (re.lastIndex >= header.length) break;
  }
  return out;
}

export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  if (header.trim() === '*') return { kind: 'any' };
  const versions = tags(header)
    .filter((t) => !t.weak && /^[0-9]{1,20}$/.test(t.value))
    .map((t) => t.value);
  return { kind: 'tags', versions };
}

/** If-None-Match uses weak comparison: W/"5" matches "5". */
export function noneMatchHits(header: string | undefined, version: string): boolean {
  if (header === undefined || header.trim() === '') return false;
  if (header.trim() === '*') return true;
  return tags(header).some((t) => t.value === version);
}

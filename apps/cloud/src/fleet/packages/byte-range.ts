/** What to send for a download request: the whole body, the rest from a byte on, or nothing (416). */
export type ByteRange = { kind: 'whole' } | { kind: 'from'; start: number } | { kind: 'unsatisfiable' };

/**
 * Reads a `Range: bytes=N-` request (RFC 9110 section 14.2), the form a
 * resumed download sends. Other forms (suffixes, closed or multiple ranges)
 * get the whole body, which the RFC allows. With `If-Range`, a stale
 * validator (the package changed since the first part) also gets the whole
 * body, so a resumed download never splices two different files.
 */
export function requestedRange(range: string | undefined, ifRange: string | undefined, etag: string, size: number): ByteRange {
  const match = range?.trim().match(/^bytes=(\d+)-$/);
  if (!match) return { kind: 'whole' };
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'whole' };
  const start = Number(match[1]);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' };
  return start === 0 ? { kind: 'whole' } : { kind: 'from', start };
}

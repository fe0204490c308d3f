import { describe, expect, it } from 'vitest';
import { requestedRange } from './byte-range';

const ETAG = '"abc123"';

describe('requestedRange', () => {
  it('resumes from the byte a cut download reached', () => {
    expect(requestedRange('bytes=100-', undefined, ETAG, 1_000)).toEqual({ kind: 'from', start: 100 });
    expect(requestedRange('bytes=999-', ETAG, ETAG, 1_000)).toEqual({ kind: 'from', start: 999 });
  });

  it('sends the whole body without a range, from byte 0, or for forms it does not serve', () => {
    for (const range of [undefined, 'bytes=0-', 'bytes=0-99', 'bytes=-100', 'bytes=1-2,5-', 'items=1-', 'bytes=x-']) {
      expect({ range, sent: requestedRange(range, undefined, ETAG, 1_000) }).toEqual({ range, sent: { kind: 'whole' } });
    }
  });

  it('sends the whole body when the package is not the one the first part came from', () => {
    expect(requestedRange('bytes=100-', '"other"', ETAG, 1_000)).toEqual({ kind: 'whole' });
  });

  it('refuses a start at or past the end', () => {
    expect(requestedRange('bytes=1000-', undefined, ETAG, 1_000)).toEqual({ kind: 'unsatisfiable' });
    expect(requestedRange('bytes=99999999999999999999-', undefined, ETAG, 1_000)).toEqual({ kind: 'unsatisfiable' });
  });
});

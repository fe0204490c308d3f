import { describe, expect, it } from 'vitest';
import { auditDelivery, type StoredRow } from './delivery-audit';

const row = (id: string, overrides: Partial<StoredRow> = {}): StoredRow => ({ id, imageKey: `samples/${id}.png`, imageSha256: 'h', objectSha256: 'h', ...overrides });

describe('auditDelivery', () => {
  it('finds nothing wrong when every accepted sample is stored once with its image written once', () => {
    const audit = auditDelivery({ accepted: new Set(['A', 'b']), dropped: new Set() }, [row('a'), row('b')], new Map([['samples/a.png', 1], ['samples/b.png', 1]]));
    expect(audit).toEqual({ accepted: 2, stored: 2, droppedByPolicy: 0, lost: [], duplicated: [], unexplained: [], damaged: [], imageWritesCounted: true });
  });

  it('counts lost, duplicated, unexplained and damaged samples by id', () => {
    const audit = auditDelivery(
      { accepted: new Set(['a', 'b', 'c', 'd', 'e']), dropped: new Set(['e']) },
      [row('a'), row('a'), row('b'), row('c', { objectSha256: undefined }), row('x')],
      new Map([['samples/b.png', 2]]),
    );
    expect(audit).toEqual({
      accepted: 5,
      stored: 4,
      droppedByPolicy: 1,
      lost: ['d'],
      duplicated: ['a', 'b'],
      unexplained: ['x'],
      damaged: ['c'],
      imageWritesCounted: true,
    });
  });

  it('counts a sample dropped by policy and stored anyway as unexplained, and says when image writes could not be counted', () => {
    const audit = auditDelivery({ accepted: new Set(['a']), dropped: new Set(['a']) }, [row('a')], undefined);
    expect(audit).toMatchObject({ lost: [], unexplained: ['a'], imageWritesCounted: false });
  });
});

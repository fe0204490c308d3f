import { describe, expect, it } from 'vitest';
import { aliasSummary, byteSize, localMinute, metricList, shortHash, validationSummary } from './model-display';

describe('aliasSummary', () => {
  it('puts production first, then staging, candidate and archived, whatever order the cloud sent', () => {
    expect(aliasSummary({ staging: 4, archived: 1, production: 3, candidate: 5 })).toBe('production v3 · staging v4 · candidate v5 · archived v1');
  });

  it('shows a dash for a model no alias points at', () => {
    expect(aliasSummary({})).toBe('-');
  });
});

describe('byteSize', () => {
  it('counts whole bytes below a kilobyte', () => {
    expect(byteSize(0)).toBe('0 B');
    expect(byteSize(999)).toBe('999 B');
  });

  it('keeps at most three significant digits, in decimal units', () => {
    expect(byteSize(1_000)).toBe('1.0 kB');
    expect(byteSize(1_234_567)).toBe('1.2 MB');
    expect(byteSize(12_345_678)).toBe('12 MB');
    expect(byteSize(123_456_789)).toBe('123 MB');
    expect(byteSize(2_500_000_000)).toBe('2.5 GB');
  });

  it('moves to the next unit when rounding would print 1000', () => {
    expect(byteSize(999_999)).toBe('1.0 MB');
    expect(byteSize(999_600)).toBe('1.0 MB');
    expect(byteSize(999_400)).toBe('999 kB');
  });
});

describe('shortHash', () => {
  it('keeps the first twelve hex digits of a SHA-256', () => {
    expect(shortHash('3f2a9c0d11e4b5a6c7d8e9f00112233445566778899aabbccddeeff00112233')).toBe('3f2a9c0d11e4…');
  });

  it('leaves a value that is short already as it is', () => {
    expect(shortHash('3f2a9c')).toBe('3f2a9c');
  });
});

describe('validationSummary', () => {
  it('says how many golden samples were checked, on which provider, how fast', () => {
    expect(validationSummary({ provider: 'cpu', goldenSamples: 8, checkMs: 412.4 })).toBe('8 golden samples checked on cpu in 412 ms');
    expect(validationSummary({ provider: 'cpu', goldenSamples: 1, checkMs: 40 })).toBe('1 golden sample checked on cpu in 40 ms');
    expect(validationSummary({ provider: 'cpu', goldenSamples: 0, checkMs: 40 })).toBe('No golden samples checked on cpu in 40 ms');
  });
});

describe('metricList', () => {
  it('orders the metrics by name', () => {
    expect(metricList({ recall: 0.91, accuracy: 0.97, f1: 0.94 })).toEqual([
      { name: 'accuracy', value: 0.97 },
      { name: 'f1', value: 0.94 },
      { name: 'recall', value: 0.91 },
    ]);
  });
});

describe('localMinute', () => {
  // The tests run with TZ=UTC (vitest.shared.ts), so the viewer's zone is UTC here.
  it('writes the instant year first, to the minute', () => {
    expect(localMinute('2026-03-04T05:06:59.999Z')).toBe('2026-03-04 05:06');
  });
});

import { describe, expect, it } from 'vitest';
import { leadingPrediction, queueKey } from './labeling-keys';

describe('queue keys', () => {
  const classes = ['ok', 'scratch', 'void'];

  it('answers with the class at the key number, and skips on S', () => {
    expect(queueKey('2', classes)).toEqual({ kind: 'answer', className: 'scratch' });
    expect(queueKey('s', classes)).toEqual({ kind: 'skip' });
    expect(queueKey('S', classes)).toEqual({ kind: 'skip' });
  });

  it('ignores numbers past the last class and every other key', () => {
    expect(queueKey('4', classes)).toBeUndefined();
    expect(queueKey('0', classes)).toBeUndefined();
    expect(queueKey('Enter', classes)).toBeUndefined();
  });
});

describe('leadingPrediction', () => {
  it("names the model's top class with its confidence, or its verdict without scores", () => {
    expect(leadingPrediction({ scores: [{ label: 'ok', score: 0.3 }, { label: 'scratch', score: 0.7 }] }, 'reject')).toEqual({ label: 'scratch', confidence: 0.7 });
    expect(leadingPrediction({ scores: [] }, 'reject')).toEqual({ label: 'reject', confidence: undefined });
  });
});

import { describe, expect, it } from 'vitest';
import { queuePriority } from './queue-priority';

const base = { samplerPriority: 0.5, reason: 'margin', labelsOfPredictedClass: 0, labelsInProject: 0 };

describe('queuePriority', () => {
  it('puts the samples the model doubted most first', () => {
    expect(queuePriority({ ...base, samplerPriority: 0.9 })).toBeGreaterThan(queuePriority({ ...base, samplerPriority: 0.4 }));
  });

  it('puts a random calibration pick after an equally scored doubtful one', () => {
    expect(queuePriority({ ...base, reason: 'random_calibration' })).toBeLessThan(queuePriority(base));
  });

  it('raises samples of classes the labels rarely cover', () => {
    const common = queuePriority({ ...base, labelsOfPredictedClass: 900, labelsInProject: 1000 });
    const rare = queuePriority({ ...base, labelsOfPredictedClass: 10, labelsInProject: 1000 });
    expect(rare).toBeGreaterThan(common);
  });

  it('stays within 0..1.25 for any input', () => {
    expect(queuePriority({ ...base, samplerPriority: 7 })).toBeLessThanOrEqual(1.25);
    expect(queuePriority({ ...base, samplerPriority: -1, labelsOfPredictedClass: 5, labelsInProject: 5 })).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { answerUncertainty, PoolMemory, type PoolItem, selectBatch, type Strategy } from './pool-selection';

const item = (station: string, ...features: number[]): PoolItem => ({ station, features: new Float32Array(features) });
const strategy = (overrides: Partial<Strategy>): Strategy => ({ name: 'test', measure: 'margin', diversity: 0, randomShare: 0, ...overrides });
const noRandom = () => {
  throw new Error('random() was not expected');
};

describe('answerUncertainty', () => {
  it.each([
    ['margin', 0.7],
    ['least_confidence', 0.4],
  ] as const)('reads the answer by the sampler measure %s', (measure, expected) => {
    expect(answerUncertainty(['a', 'b', 'c'], [0.3, 0.6, 0.1], measure)).toBeCloseTo(expected, 10);
  });
});

describe('selectBatch', () => {
  it('takes the most uncertain first when spread has no weight, and never a labeled item', () => {
    const items = [item('s', 1, 0), item('s', 0, 1), item('s', 1, 1), item('s', 2, 1)];
    const memory = new PoolMemory(items);
    memory.label(1, false);
    const picks = selectBatch(memory, Float64Array.from([0.2, 0.9, 0.5, 0.7]), 2, strategy({}), noRandom);
    expect(picks).toEqual([
      { index: 3, random: false },
      { index: 2, random: false },
    ]);
    expect([...memory.labeled].sort()).toEqual([1, 2, 3]);
  });

  it('takes its random share first, uniformly among the unlabeled', () => {
    const items = [item('s', 1), item('s', 1), item('s', 1), item('s', 1)];
    const draws = [0.99, 0];
    const picks = selectBatch(new PoolMemory(items), Float64Array.from([0.1, 0.2, 0.3, 0.4]), 4, strategy({ randomShare: 0.5 }), () => draws.shift()!);
    expect(picks).toEqual([
      { index: 3, random: true },
      { index: 0, random: true },
      { index: 2, random: false },
      { index: 1, random: false },
    ]);
  });

  it('with spread, passes over an item close to one just picked at the same station', () => {
    const items = [item('s', 1, 0), item('s', 1, 0.01), item('s', 0, 1), item('t', 1, 0.01)];
    const uncertainties = Float64Array.from([0.9, 0.85, 0.5, 0.8]);
    const picks = selectBatch(new PoolMemory(items), uncertainties, 3, strategy({ diversity: 0.5 }), noRandom);
    expect(picks.map((pick) => pick.index)).toEqual([0, 3, 2]);
    const plain = selectBatch(new PoolMemory(items), uncertainties, 3, strategy({}), noRandom);
    expect(plain.map((pick) => pick.index)).toEqual([0, 1, 3]);
  });

  it('stops when the pool runs out', () => {
    const memory = new PoolMemory([item('s', 1)]);
    expect(selectBatch(memory, Float64Array.from([0.5]), 3, strategy({ randomShare: 0.5 }), () => 0)).toEqual([{ index: 0, random: true }]);
  });
});

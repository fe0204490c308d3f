import { describe, expect, it } from 'vitest';
import { modelGuess, percent } from './model-guess';

describe('modelGuess', () => {
  it('shows a class verdict with its own score', () => {
    const guess = modelGuess({ scores: [{ label: 'Normal', score: 0.3 }, { label: 'Defective', score: 0.7 }] }, 'Defective');
    expect(guess).toMatchObject({ verdict: 'Defective', probability: 0.7, leading: undefined });
    expect(guess.scores.map((score) => score.label)).toEqual(['Defective', 'Normal']);
  });

  it('shows pass or reject as the verdict, with the leading class and its score beside it', () => {
    const scores = [{ label: 'Defective', score: 0.58 }, { label: 'Normal', score: 0.42 }];
    expect(modelGuess({ scores, boxes: [] }, 'reject')).toMatchObject({ verdict: 'reject', probability: 0.58, leading: { label: 'Defective', score: 0.58 } });
  });

  it('names no leading class when the top scores tie, as when every score is 0 (issue #20: "Defective (0%)" on a pass)', () => {
    const guess = modelGuess({ scores: [{ label: 'Defective', score: 0 }, { label: 'Normal', score: 0 }], boxes: [] }, 'pass');
    expect(guess).toMatchObject({ verdict: 'pass', probability: undefined, leading: undefined });
    expect(guess.scores).toHaveLength(2);
  });

  it('ranks scores that arrive in any order, highest first', () => {
    const guess = modelGuess({ scores: [{ label: 'a', score: 0.1 }, { label: 'b', score: 0.6 }, { label: 'c', score: 0.3 }] }, 'pass');
    expect(guess.scores.map((score) => score.label)).toEqual(['b', 'c', 'a']);
    expect(guess.leading).toEqual({ label: 'b', score: 0.6 });
  });

  it("reads the model's boxes, and shows nothing it cannot read rather than failing", () => {
    const box = { label: 'bridge', score: 0.9, x: 1, y: 2, width: 3, height: 4 };
    expect(modelGuess({ scores: [], boxes: [box] }, 'reject').boxes).toEqual([box]);
    for (const prediction of [null, undefined, 'text', 42, {}, { scores: 'x', boxes: [{ label: 1 }] }, { scores: [{ label: 'a', score: 'high' }] }]) {
      expect(modelGuess(prediction, 'pass')).toEqual({ verdict: 'pass', probability: undefined, leading: undefined, scores: [], boxes: [] });
    }
  });
});

describe('percent', () => {
  it('rounds to whole percents without claiming certainty the score does not have', () => {
    expect(percent(0.576)).toBe('58%');
    expect(percent(0)).toBe('0%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.0004)).toBe('<1%');
    expect(percent(0.9996)).toBe('>99%');
  });
});

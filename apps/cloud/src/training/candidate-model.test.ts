import { describe, expect, it } from 'vitest';
import { classProbabilities } from './champion-evaluation';
import { candidateDecision } from './candidate-model';

describe('candidateDecision', () => {
  it("keeps the serving model's reject labels and score where the project still has them", () => {
    expect(candidateDecision(['Normal', 'Defective'], { rejectLabels: ['Defective', 'Gone'], minScore: 0.7 })).toEqual({ rejectLabels: ['Defective'], minScore: 0.7 });
  });

  it("rejects on every class but the project's first when nothing serves it, or its labels are all gone", () => {
    expect(candidateDecision(['ok', 'scratch', 'dent'], undefined)).toEqual({ rejectLabels: ['scratch', 'dent'], minScore: 0.5 });
    expect(candidateDecision(['ok', 'scratch'], { rejectLabels: ['Defective'], minScore: 0.9 })).toEqual({ rejectLabels: ['scratch'], minScore: 0.5 });
  });
});

describe('classProbabilities', () => {
  it("puts the champion's scores in the project's class order, 0 for a class it does not name, summing to 1", () => {
    const [normal, defective, scratch] = classProbabilities([{ label: 'Defective', score: 0.6 }, { label: 'Normal', score: 0.2 }], ['Normal', 'Defective', 'Scratch']);
    expect(normal).toBeCloseTo(0.25, 12);
    expect(defective).toBeCloseTo(0.75, 12);
    expect(scratch).toBe(0);
  });

  it('leaves all zeros when the champion names none of the classes', () => {
    expect([...classProbabilities([{ label: 'Other', score: 1 }], ['a', 'b'])]).toEqual([0, 0]);
  });
});

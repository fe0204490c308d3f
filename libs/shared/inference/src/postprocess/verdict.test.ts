import { describe, expect, it } from 'vitest';
import type { VerdictRule } from '../manifest/model-manifest';
import type { Prediction } from './prediction';
import { combineVerdicts, type HeadResult } from './verdict';

const said = (head: string, verdict: string, role: 'vote' | 'report' = 'vote'): HeadResult => ({
  head,
  role,
  prediction: { verdict, scores: [], boxes: [] } satisfies Prediction,
});

describe('combineVerdicts', () => {
  it.each<{ rule: VerdictRule; heads: HeadResult[]; verdict: 'reject' | 'pass'; rejectedBy: string[] }>([
    { rule: 'any', heads: [said('discover', 'pass'), said('open', 'pass')], verdict: 'pass', rejectedBy: [] },
    { rule: 'any', heads: [said('discover', 'reject'), said('open', 'pass')], verdict: 'reject', rejectedBy: ['discover'] },
    { rule: 'any', heads: [said('discover', 'pass'), said('open', 'reject')], verdict: 'reject', rejectedBy: ['open'] },
    { rule: 'any', heads: [said('discover', 'pass'), said('short', 'reject', 'report')], verdict: 'pass', rejectedBy: [] },
    { rule: 'all', heads: [said('discover', 'reject'), said('open', 'pass')], verdict: 'pass', rejectedBy: ['discover'] },
    { rule: 'all', heads: [said('discover', 'reject'), said('open', 'reject'), said('short', 'pass', 'report')], verdict: 'reject', rejectedBy: ['discover', 'open'] },
    { rule: { atLeast: 2 }, heads: [said('a', 'reject'), said('b', 'pass'), said('c', 'reject')], verdict: 'reject', rejectedBy: ['a', 'c'] },
    { rule: { atLeast: 2 }, heads: [said('a', 'reject'), said('b', 'pass'), said('c', 'pass')], verdict: 'pass', rejectedBy: ['a'] },
    // A classification head without reject labels answers with a label: it never rejects.
    { rule: 'any', heads: [said('discover', 'pass'), said('types', 'open')], verdict: 'pass', rejectedBy: [] },
  ])('$rule over $heads.length heads: $verdict', ({ rule, heads, verdict, rejectedBy }) => {
    const combined = combineVerdicts(heads, rule);
    expect(combined.verdict).toBe(verdict);
    expect(combined.rejectedBy).toEqual(rejectedBy);
    expect(combined.heads.map((head) => head.head)).toEqual(heads.map((head) => head.head));
  });

  it('refuses to decide when no head votes', () => {
    expect(() => combineVerdicts([said('short', 'reject', 'report')], 'any')).toThrow(/no head votes/);
  });
});

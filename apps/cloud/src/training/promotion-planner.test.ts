import type { EvaluationDto, PromotionDecision } from '@loupe/api-contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decidePromotion, planPromotionCommand } from './promotion-planner';

const evaluation = (macroF1: number, overrides: Partial<EvaluationDto> = {}): EvaluationDto => ({
  samples: 120,
  accuracy: macroF1,
  macroF1,
  perClass: [],
  confusion: [],
  classes: ['normal', 'open', 'short'],
  calibrationError: 0.05,
  ...overrides,
});
const champion = (macroF1: number, overrides: Partial<EvaluationDto> = {}) => ({ ...evaluation(macroF1, overrides), version: 3 });

describe('decidePromotion', () => {
  it.each<[string, number, number | null, number, 'approval' | 'auto-rollout', PromotionDecision]>([
    ['a challenger below the champion loses', 0.7, 0.8, 0.01, 'auto-rollout', 'lost'],
    ['a challenger that gains less than the margin loses', 0.805, 0.8, 0.01, 'auto-rollout', 'lost'],
    ['an equal challenger loses under a positive margin', 0.8, 0.8, 0.01, 'approval', 'lost'],
    ['an equal challenger wins under a zero margin', 0.8, 0.8, 0, 'approval', 'awaiting-approval'],
    ['a winner waits for approval by default', 0.85, 0.8, 0.01, 'approval', 'awaiting-approval'],
    ['a winner under auto-rollout starts its canary', 0.85, 0.8, 0.01, 'auto-rollout', 'rollout-started'],
    ['a challenger exactly one margin better wins despite binary rounding', 0.57, 0.56, 0.01, 'auto-rollout', 'rollout-started'],
    ['with nothing serving, a first model waits even under auto-rollout', 0.3, null, 0.01, 'auto-rollout', 'first-model'],
  ])('%s', (_, challengerF1, championF1, margin, promotion, decision) => {
    const verdict = decidePromotion({
      challenger: evaluation(challengerF1),
      champion: championF1 === null ? null : champion(championF1),
      policy: { margin, promotion },
    });
    expect(verdict.decision).toBe(decision);
  });

  it('keeps the numbers it decided on', () => {
    const verdict = decidePromotion({ challenger: evaluation(0.75), champion: champion(0.8), policy: { margin: 0.02, promotion: 'approval' } });
    expect(verdict.comparison).toEqual({ challengerMacroF1: 0.75, championMacroF1: 0.8, championVersion: 3, gain: expect.closeTo(-0.05, 9) as unknown, margin: 0.02, testSamples: 120 });
    expect(verdict.reason).toMatch(/macro-F1 0\.7500 against version 3's 0\.8000 on 120 test samples: gained -0\.0500, less than the margin 0\.0200/);
  });

  it.each([
    ['another number of test samples', { samples: 99 }],
    ['other classes', { classes: ['normal', 'open'] }],
  ])('never promotes over a champion evaluated on %s', (_, unlike) => {
    const verdict = decidePromotion({ challenger: evaluation(0.99), champion: champion(0.1, unlike), policy: { margin: 0, promotion: 'auto-rollout' } });
    expect(verdict.decision).toBe('lost');
    expect(verdict.reason).toMatch(/not comparable with version 3/);
  });

  it('rolls out only what beat the champion by the margin', () => {
    const score = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(score, score, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('approval' as const, 'auto-rollout' as const), (challengerF1, championF1, margin, promotion) => {
        const { decision } = decidePromotion({ challenger: evaluation(challengerF1), champion: champion(championF1), policy: { margin, promotion } });
        const won = decision === 'rollout-started' || decision === 'awaiting-approval';
        expect(won).toBe(challengerF1 - championF1 >= margin - 1e-9);
        if (decision === 'rollout-started') expect(promotion).toBe('auto-rollout');
      }),
    );
  });
});

describe('planPromotionCommand', () => {
  it.each<[PromotionDecision, 'approve' | 'reject', PromotionDecision]>([
    ['awaiting-approval', 'approve', 'approved'],
    ['awaiting-approval', 'reject', 'rejected'],
    ['first-model', 'approve', 'approved'],
    ['first-model', 'reject', 'rejected'],
  ])('%s, %s: %s', (current, command, next) => {
    expect(planPromotionCommand(current, command)).toEqual({ next });
  });

  it.each<PromotionDecision>(['lost', 'approved', 'rejected', 'rollout-started'])('refuses to approve or reject a candidate that is %s', (current) => {
    expect(planPromotionCommand(current, 'approve')).toHaveProperty('refused', expect.stringMatching(new RegExp(`is ${current}`)));
    expect(planPromotionCommand(current, 'reject')).toHaveProperty('refused');
  });
});

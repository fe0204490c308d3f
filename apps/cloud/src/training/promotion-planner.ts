import type { EvaluationDto, PromotionDecision, TrainingPolicyDto } from '@loupe/api-contracts';

/** The numbers every decision is taken on, kept with it in the audit log. */
export interface PromotionComparison {
  challengerMacroF1: number;
  championMacroF1: number | null;
  championVersion: number | null;
  /** challenger - champion macro-F1; null without a champion. */
  gain: number | null;
  margin: number;
  testSamples: number;
}

export interface PromotionVerdict {
  decision: Extract<PromotionDecision, 'lost' | 'awaiting-approval' | 'rollout-started' | 'first-model'>;
  reason: string;
  comparison: PromotionComparison;
}

export interface PromotionInput {
  challenger: EvaluationDto;
  champion: (EvaluationDto & { version: number }) | null;
  policy: Pick<TrainingPolicyDto, 'margin' | 'promotion'>;
}

// Macro-F1 differences are sums of ratios; 0.57 - 0.56 is 0.00999... in
// binary floating point, and a challenger exactly one margin better must win.
const ROUNDING = 1e-9;

/**
 * What becomes of a freshly trained candidate, from its evaluation and the
 * champion's on the same test split: it must beat the champion's macro-F1 by
 * the policy's margin. A winner waits for an engineer, or under
 * `auto-rollout` starts its canary at once; a loser is kept, never rolled
 * out. With nothing serving the project there is nothing to compare with,
 * and a first model always waits for a person.
 */
export function decidePromotion({ challenger, champion, policy }: PromotionInput): PromotionVerdict {
  const comparison: PromotionComparison = {
    challengerMacroF1: challenger.macroF1,
    championMacroF1: champion?.macroF1 ?? null,
    championVersion: champion?.version ?? null,
    gain: champion ? challenger.macroF1 - champion.macroF1 : null,
    margin: policy.margin,
    testSamples: challenger.samples,
  };
  if (!champion) return { decision: 'first-model', reason: 'nothing serves the project yet: the first model waits for approval', comparison };
  const unlike = unlikeSplits(challenger, champion);
  if (unlike) return { decision: 'lost', reason: `not comparable with version ${champion.version}: ${unlike}`, comparison };
  const gain = comparison.gain!;
  const scores = `macro-F1 ${fixed(challenger.macroF1)} against version ${champion.version}'s ${fixed(champion.macroF1)} on ${challenger.samples} test samples`;
  if (gain < policy.margin - ROUNDING) {
    return { decision: 'lost', reason: `${scores}: gained ${fixed(gain)}, less than the margin ${fixed(policy.margin)}`, comparison };
  }
  const won = `${scores}: gained ${fixed(gain)}, at least the margin ${fixed(policy.margin)}`;
  if (policy.promotion === 'auto-rollout') return { decision: 'rollout-started', reason: `${won}; the policy starts its canary`, comparison };
  return { decision: 'awaiting-approval', reason: `${won}; waits for an engineer's approval`, comparison };
}

/** Why two evaluations are not of the same test split, or undefined when they may be. */
function unlikeSplits(challenger: EvaluationDto, champion: EvaluationDto): string | undefined {
  if (challenger.samples !== champion.samples) return `evaluated on ${challenger.samples} and ${champion.samples} test samples`;
  if (challenger.samples === 0) return 'the test split is empty';
  if (challenger.classes.join('\n') !== champion.classes.join('\n')) return `classes differ (${challenger.classes.join(', ')} against ${champion.classes.join(', ')})`;
  return undefined;
}

const fixed = (value: number) => value.toFixed(4);

/** What an engineer may do with a candidate. */
export type PromotionCommand = 'approve' | 'reject';

/**
 * Whether the command applies to a candidate whose current decision is
 * `current`, and the decision it leads to. Only a winner waiting for a person
 * (or a first model) can be approved or rejected; what lost, rolled out or
 * was decided already stays as it is.
 */
export function planPromotionCommand(current: PromotionDecision, command: PromotionCommand): { next: PromotionDecision } | { refused: string } {
  if (current !== 'awaiting-approval' && current !== 'first-model') {
    return { refused: `the candidate is ${current}; only one awaiting approval can be ${command === 'approve' ? 'approved' : 'rejected'}` };
  }
  return { next: command === 'approve' ? 'approved' : 'rejected' };
}

import { z } from 'zod';
import type { ModelBox } from '../boxes/box-editor';

// The claim carries the model's prediction as the agent sent it (the
// contract types it `unknown`): scores highest first and, for detection
// models, boxes in image pixels (proto/loupe/v1/common.proto, Prediction).
// Anything that does not read as that shows as no scores and no boxes.
// (zod's numbers are finite.)
const predictionSchema = z.object({
  scores: z.array(z.object({ label: z.string(), score: z.number() })).catch([]),
  boxes: z.array(z.object({ label: z.string(), score: z.number(), x: z.number(), y: z.number(), width: z.number(), height: z.number() })).catch([]),
});

export interface LabelScore {
  label: string;
  score: number;
}

/** What the model said about a sample, as the labeling screens show it. */
export interface ModelGuess {
  /** The model's decision as the station saw it: a class, or a word such as pass or reject. */
  verdict: string;
  /**
   * The score behind the verdict: the verdict's own score when it is a
   * class, else the leading class's; undefined when no class leads (no
   * scores, or a tie at the top such as every score 0).
   */
  probability: number | undefined;
  /** The class that leads, when the verdict is not itself a class (pass or reject says which way, not what). */
  leading: LabelScore | undefined;
  /** Every class score, highest first. */
  scores: LabelScore[];
  /** The model's boxes, for detection models. */
  boxes: ModelBox[];
}

export function modelGuess(prediction: unknown, verdict: string): ModelGuess {
  const parsed = predictionSchema.safeParse(prediction ?? {});
  const { scores, boxes } = parsed.success ? parsed.data : { scores: [], boxes: [] };
  const ranked = [...scores].sort((a, b) => b.score - a.score);
  const own = ranked.find((score) => score.label === verdict);
  if (own) return { verdict, probability: own.score, leading: undefined, scores: ranked, boxes };
  const [top, second] = ranked;
  const leading = top && (second === undefined || top.score > second.score) ? top : undefined;
  return { verdict, probability: leading?.score, leading, scores: ranked, boxes };
}

/** A score as a percentage for people: whole percents, but never 0% or 100% for a score that is neither. */
export function percent(score: number): string {
  const value = score * 100;
  if (value > 0 && value < 1) return '<1%';
  if (value > 99 && value < 100) return '>99%';
  return `${Math.round(value)}%`;
}

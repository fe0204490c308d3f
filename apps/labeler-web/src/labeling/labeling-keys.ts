/** What a key press on the queue screen means. */
export type QueueKey = { kind: 'answer'; className: string } | { kind: 'skip' } | undefined;

/** Keys 1-9 answer with the project's classes in order; S skips. */
export function queueKey(key: string, classes: readonly string[]): QueueKey {
  if (/^[1-9]$/.test(key)) {
    const className = classes[Number(key) - 1];
    return className === undefined ? undefined : { kind: 'answer', className };
  }
  if (key === 's' || key === 'S') return { kind: 'skip' };
  return undefined;
}

/** The model's leading class and its confidence, for the caption. */
export function leadingPrediction(prediction: unknown, verdict: string): { label: string; confidence: number | undefined } {
  const scores = (prediction as { scores?: { label: string; score: number }[] } | null)?.scores ?? [];
  const top = scores.reduce<{ label: string; score: number } | undefined>((best, score) => (best && best.score >= score.score ? best : score), undefined);
  return top ? { label: top.label, confidence: top.score } : { label: verdict, confidence: undefined };
}

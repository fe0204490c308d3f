import type { GivenAnswer } from './labeling-api';

/** An answer in a few words: its class, or how many boxes it has. */
export function answerText(answer: GivenAnswer): string {
  if ('className' in answer) return answer.className;
  const count = answer.boxes.length;
  return count === 0 ? 'no boxes' : count === 1 ? '1 box' : `${count} boxes`;
}

export type TaskState = 'open' | 'leased' | 'review' | 'done';

/**
 * Where a sample goes after an answer, given every answer so far (as
 * comparable keys) and the project's K. K agreeing answers settle it; any
 * disagreement sends it to a reviewer, since more votes would only hide that
 * the labelers read the image differently.
 */
export function stateAfterAnswer(answerKeys: readonly string[], consensus: number): Exclude<TaskState, 'leased'> {
  const distinct = new Set(answerKeys);
  if (distinct.size > 1) return 'review';
  return answerKeys.length >= consensus ? 'done' : 'open';
}

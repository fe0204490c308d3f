import type { LabelAnswerRepository } from './label-answer.repository';
import { toClaimedSample } from './label-task.repository';
import type { ClaimedSample, LabelerClaim, LeaseHolder } from './task-leases';

export interface Answer {
  /** What consensus compares: the class, or boxes in a canonical form. */
  key: string;
  value: unknown;
  spentMs: number;
}

export type SettledState = 'open' | 'review' | 'done';

/** An answer to record, and whether its labeler wants the next sample claimed with it. */
export interface GivenAnswer {
  holder: LeaseHolder;
  answer: Answer;
  claimNext: boolean;
}

/** A claim that found a sample. */
export type NextClaim = LabelerClaim & { sample: ClaimedSample };

/** A recorded answer: where its sample stands now, and the labeler's next sample if one was claimed. */
export interface RecordedAnswer {
  state: SettledState;
  projectId: string;
  next?: NextClaim;
}

/**
 * Records a group of answers and claims each labeler who asked for it their
 * next sample, in one transaction: the labelers waiting at once share its
 * statements and its commit. Each labeler gets the most useful open sample
 * they have neither answered nor skipped, in the order their answers came.
 *
 * One result per answer, in order: undefined when the answer was not
 * recorded (the lease was lost, or the same call came twice in the group),
 * and `next` missing when no sample was claimed for the labeler here.
 */
export function recordAnswersAndClaim(
  repository: LabelAnswerRepository,
  given: GivenAnswer[],
  leaseSeconds: number,
): Promise<(RecordedAnswer | undefined)[]> {
  // The same call twice in a group is recorded once; the repeat goes
  // unrecorded, as it would in a later group. Calls of different holders
  // on one sample all go in: the lease check keeps the current one.
  const firstOf = new Map<string, number>();
  given.forEach(({ holder }, index) => {
    const call = `${holder.sampleId.toLowerCase()}/${holder.labelerId.toLowerCase()}/${holder.token}`;
    if (!firstOf.has(call)) firstOf.set(call, index);
  });
  const sent = [...firstOf.values()];
  return repository.inTransaction(async (answers) => {
    const settled = await answers.record(sent.map((index) => ({ holder: given[index]!.holder, ...given[index]!.answer })));
    const outcomes = new Map<number, RecordedAnswer>();
    for (const row of settled) outcomes.set(sent[Number(row.position) - 1]!, { state: row.state, projectId: row.project_id });
    const claims = await claimNext(
      answers,
      [...outcomes].filter(([index]) => given[index]!.claimNext),
      given,
      leaseSeconds,
    );
    for (const [index, next] of claims) outcomes.get(index)!.next = next;
    return given.map((_, index) => outcomes.get(index));
  });
}

/** Claims, for each recorded answer that asked, the next sample of its project for its labeler. */
async function claimNext(
  answers: LabelAnswerRepository,
  wanting: [number, RecordedAnswer][],
  given: GivenAnswer[],
  leaseSeconds: number,
): Promise<Map<number, NextClaim>> {
  const assigned: { index: number; sampleId: string; labelerId: string }[] = [];
  for (const projectId of new Set(wanting.map(([, outcome]) => outcome.projectId))) {
    const inProject = wanting.filter(([, outcome]) => outcome.projectId === projectId).map(([index]) => index);
    const labelers = inProject.map((index) => given[index]!.holder.labelerId.toLowerCase());
    // Twice as many rows as labelers, so one who answered or skipped a few
    // of the best still finds one here.
    const rows = await answers.offerable(projectId, labelers, 2 * labelers.length);
    const taken = new Set<string>();
    inProject.forEach((index, position) => {
      const labelerId = labelers[position]!;
      const row = rows.find((candidate) => !taken.has(candidate.sample_id) && !candidate.passed_by.includes(labelerId));
      if (!row) return;
      taken.add(row.sample_id);
      assigned.push({ index, sampleId: row.sample_id, labelerId });
    });
  }
  const claims = new Map<number, NextClaim>();
  if (assigned.length === 0) return claims;
  const rows = await answers.lease(assigned, leaseSeconds);
  const indexOf = new Map(assigned.map((one) => [one.sampleId, one.index]));
  for (const row of rows) claims.set(indexOf.get(row.sample_id)!, { sample: toClaimedSample(row), answeredToday: row.answered_today });
  return claims;
}

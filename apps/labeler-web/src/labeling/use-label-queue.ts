import type { ClaimDto, ProjectDto } from '@loupe/api-contracts';
import { useEffect, useState } from 'react';
import { useProblem } from '../session/use-problem';
import { answerText } from './answer-text';
import type { ClaimStatus } from './claim-state';
import type { GivenAnswer, LabelingApi } from './labeling-api';
import { useAnswerUndo } from './use-answer-undo';
import { useConfirmation, type Confirmation } from './use-confirmation';
import { useQueueFeed } from './use-queue-feed';

export interface QueueCounters {
  /** Your answers in this project today; null until the cloud has said. */
  doneTodayInProject: number | null;
  /** Samples waiting in the project for anyone, the ones held by labelers included. */
  queueDepth: number;
}

export interface LabelQueue {
  /** The sample on screen; null while loading, when the queue is empty and when claiming failed. */
  current: ClaimDto | null;
  status: ClaimStatus;
  counters: QueueCounters;
  /** The last thing that went wrong, for the person: a lost lease, a refused undo, an unreachable cloud. */
  problem: string | null;
  /** What the last answer, skip or undo did, shown so the person sees it land. */
  confirmation: Confirmation | null;
  /** The answer that was taken back, while its sample is on screen again: the box screen starts from it. */
  previousAnswer: GivenAnswer | null;
  answer: (given: GivenAnswer) => void;
  skip: () => void;
  undo: () => void;
  /** Claims again after a failure. */
  retry: () => void;
}

/**
 * The queue screen's work: answers (each one request that also claims the
 * sample after next), skips, and an undo stack that takes answers back
 * latest first, each confirmed on screen. Which key or button does what is
 * the screen's business.
 */
export function useLabelQueue(api: LabelingApi, project: ProjectDto, onSessionExpired: () => void): LabelQueue {
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const { confirmation, confirm } = useConfirmation();
  const feed = useQueueFeed(api, project.id, fail);
  const { doneToday, count } = useDoneToday(api, project.id, fail);

  /** The sample on screen, taken so that no other action reaches it. */
  const take = (): ClaimDto | null => {
    const claim = feed.actionable.current;
    feed.actionable.current = null;
    if (claim) setProblem(null);
    return claim;
  };
  const undoable = useAnswerUndo({ api, feed, take, count, confirm, setProblem, fail });

  const answer = (given: GivenAnswer) => {
    const claim = take();
    if (!claim) return;
    const submitted = api.submit(claim.sampleId, claim.token, given, performance.now() - feed.shownAt.current);
    undoable.remember({ sampleId: claim.sampleId, answer: given, submitted });
    submitted.then(() => {
      count(1);
      confirm(`Answered ${answerText(given)}. Z takes it back.`);
    }, fail);
    // The submit claimed the sample after the prefetched one; when it failed, a plain claim does.
    void feed.advance(
      submitted.then(
        (response) => response.next ?? api.claim(project.id),
        () => api.claim(project.id),
      ),
    );
  };

  const skip = () => {
    const claim = take();
    if (!claim) return;
    api.skip(claim.sampleId, claim.token).then(() => confirm('Skipped: this sample will not be offered to you again.'), fail);
    void feed.advance();
  };

  const retry = () => {
    setProblem(null);
    feed.retry();
  };

  return {
    current: feed.current,
    status: feed.status,
    counters: { doneTodayInProject: doneToday, queueDepth: feed.queueDepth },
    problem,
    confirmation,
    previousAnswer: feed.previousAnswer,
    answer,
    skip,
    undo: undoable.undo,
    retry,
  };
}

/** Your answers in the project today: read once, then the answers and undos made here are counted here. */
function useDoneToday(api: LabelingApi, projectId: string, fail: (error: unknown) => void) {
  const [doneToday, setDoneToday] = useState<number | null>(null);
  const count = (change: number) => setDoneToday((shown) => Math.max(0, (shown ?? 0) + change));
  useEffect(() => {
    api.progress(projectId).then((progress) => setDoneToday(progress.doneTodayInProject), fail);
  }, [api, fail, projectId]);
  return { doneToday, count };
}

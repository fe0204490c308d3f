import type { ClaimDto, ProjectDto } from '@loupe/api-contracts';
import { useEffect, useRef, useState } from 'react';
import { useProblem } from '../session/use-problem';
import { answerText } from './answer-text';
import type { ClaimStatus } from './claim-state';
import type { GivenAnswer, LabelingApi } from './labeling-api';
import { emptyUndoStack, nothingToUndo, popAnswer, pushAnswer, type UndoStack } from './undo-stack';
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

interface UndoEntry {
  sampleId: string;
  answer: GivenAnswer;
  submitted: Promise<unknown>;
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
  const [doneToday, setDoneToday] = useState<number | null>(null);
  const undoStack = useRef<UndoStack<UndoEntry>>(emptyUndoStack());
  const count = (change: number) => setDoneToday((shown) => Math.max(0, (shown ?? 0) + change));

  // The day's count in this project is read once; the answers and undos made here are counted here after that.
  useEffect(() => {
    api.progress(project.id).then((progress) => setDoneToday(progress.doneTodayInProject), fail);
  }, [api, fail, project.id]);

  /** The sample on screen, taken so that no other action reaches it. */
  const take = (): ClaimDto | null => {
    const claim = feed.actionable.current;
    feed.actionable.current = null;
    if (claim) setProblem(null);
    return claim;
  };

  const answer = (given: GivenAnswer) => {
    const claim = take();
    if (!claim) return;
    const submitted = api.submit(claim.sampleId, claim.token, given, performance.now() - feed.shownAt.current);
    undoStack.current = pushAnswer(undoStack.current, { sampleId: claim.sampleId, answer: given, submitted });
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

  /** Takes the latest answer back and puts its sample on screen again; the one that was there goes back to the queue. */
  const undo = async () => {
    if (feed.changing.current) return confirm('A sample is on its way to the screen: press Z again once it is there.', 'info');
    setProblem(null);
    const { entry, rest } = popAnswer(undoStack.current);
    if (!entry) return confirm(nothingToUndo(undoStack.current), 'info');
    undoStack.current = rest;
    const onScreen = take();
    feed.changing.current = true;
    try {
      // A submit that failed left nothing to take back (its failure is on screen already).
      if (!(await entry.submitted.then(() => true, () => false))) {
        feed.actionable.current = onScreen;
        return confirm('That answer never reached the cloud, so there is nothing to take back.', 'info');
      }
      const undone = await api.undo(entry.sampleId);
      // Were the release lost, the lease would run out and free the sample all the same.
      if (onScreen) api.release(onScreen.sampleId, onScreen.token).catch(() => undefined);
      count(-1);
      feed.show(undone.claim, entry.answer);
      confirm(`Took back your answer (${answerText(entry.answer)}): answer this sample again.`);
    } catch (error) {
      feed.actionable.current = onScreen;
      fail(error);
    } finally {
      feed.changing.current = false;
    }
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
    undo: () => void undo(),
    retry,
  };
}

import type { ClaimDto } from '@loupe/api-contracts';
import { useRef } from 'react';
import { answerText } from './answer-text';
import type { GivenAnswer, LabelingApi } from './labeling-api';
import { emptyUndoStack, nothingToUndo, popAnswer, pushAnswer, type UndoStack } from './undo-stack';
import type { Confirmation } from './use-confirmation';
import type { QueueFeed } from './use-queue-feed';

interface UndoEntry {
  sampleId: string;
  answer: GivenAnswer;
  submitted: Promise<unknown>;
}

interface AnswerUndoOptions {
  api: LabelingApi;
  feed: QueueFeed;
  /** Takes the sample on screen so that no other action reaches it. */
  take: () => ClaimDto | null;
  /** Changes the day's count of answers. */
  count: (change: number) => void;
  confirm: (text: string, tone?: Confirmation['tone']) => void;
  setProblem: (problem: string | null) => void;
  fail: (error: unknown) => void;
}

/** The answers given on this screen, and Z taking them back latest first, each confirmed on screen. */
export function useAnswerUndo({ api, feed, take, count, confirm, setProblem, fail }: AnswerUndoOptions) {
  const undoStack = useRef<UndoStack<UndoEntry>>(emptyUndoStack());

  const remember = (entry: UndoEntry) => {
    undoStack.current = pushAnswer(undoStack.current, entry);
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

  return { remember, undo: () => void undo() };
}

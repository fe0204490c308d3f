import type { ProjectDto, ReviewDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { HEARTBEAT_MS, LeaseExpiredError } from '../labeling/lease';
import { useEvery } from '../labeling/use-every';
import { useProblem } from '../session/use-problem';
import type { ReviewApi } from './review-api';

const NOTHING_TO_REVIEW_RETRY_MS = 5_000;

export interface ReviewQueue {
  /** The disagreement on screen; null while loading and when there is none. */
  current: ReviewDto | null;
  status: 'loading' | 'reviewing' | 'empty' | 'failed';
  /** Disagreements waiting in the project, the one on screen included. */
  reviewDepth: number;
  /** Decisions made on this screen since it opened. */
  decided: number;
  problem: string | null;
  /** Settles the disagreement on screen with the class, and claims the next. */
  decide: (className: string) => void;
  /** Claims again after a failure. */
  retry: () => void;
}

/**
 * The review screen's work: one disagreement at a time under a lease, kept
 * alive by heartbeats; `decide` settles it with one of the project's
 * classes and claims the next. Leaving the screen gives back the one held.
 */
export function useReviewQueue(api: ReviewApi, project: ProjectDto, onSessionExpired: () => void): ReviewQueue {
  const [current, setCurrent] = useState<ReviewDto | null>(null);
  const [status, setStatus] = useState<ReviewQueue['status']>('loading');
  const [reviewDepth, setReviewDepth] = useState(0);
  const [decided, setDecided] = useState(0);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  // The review the keys act on; emptied by the first key, so a second press cannot decide it twice.
  const decidable = useRef<ReviewDto | null>(null);
  // The review this screen holds a lease on, until it is decided or lost.
  const held = useRef<ReviewDto | null>(null);
  const claiming = useRef(false);

  const claimNext = useCallback(async () => {
    claiming.current = true;
    try {
      const response = await api.claim(project.id);
      setReviewDepth(response.reviewDepth);
      setCurrent(response.review);
      held.current = response.review;
      setStatus(response.review ? 'reviewing' : 'empty');
    } catch (error) {
      // Nothing to show: the screen says what went wrong and claims again (itself, or on Try again).
      setCurrent(null);
      held.current = null;
      setStatus('failed');
      fail(error);
    } finally {
      claiming.current = false;
    }
  }, [api, fail, project.id]);

  /** A lost lease leaves nothing to decide: say so and go on with the next disagreement. */
  const failOrMoveOn = useCallback(
    (error: unknown) => {
      fail(error);
      if (!(error instanceof LeaseExpiredError)) return false;
      held.current = null;
      void claimNext();
      return true;
    },
    [claimNext, fail],
  );

  useEffect(() => {
    void claimNext();
  }, [claimNext]);

  // Keys act on a disagreement from the moment it is in the page.
  useLayoutEffect(() => {
    decidable.current = current;
  }, [current]);

  // Given back on leaving, another reviewer can take it now rather than when the lease runs out.
  useEffect(
    () => () => {
      const review = held.current;
      if (review) api.release(review.sampleId, review.token).catch(() => undefined);
    },
    [api],
  );

  useEvery(status === 'empty' || status === 'failed' ? NOTHING_TO_REVIEW_RETRY_MS : null, () => {
    if (!claiming.current) void claimNext();
  });

  useEvery(current ? HEARTBEAT_MS : null, () => {
    const review = decidable.current;
    if (review) api.heartbeat(review.sampleId, review.token).catch(failOrMoveOn);
  });

  const decide = (className: string) => {
    const review = decidable.current;
    if (!review) return;
    decidable.current = null;
    setProblem(null);
    api.decide(review.sampleId, review.token, className).then(
      () => {
        held.current = null;
        setDecided((count) => count + 1);
        void claimNext();
      },
      (error: unknown) => {
        // Still held (the cloud was out of reach, say): the same key tries again.
        if (!failOrMoveOn(error)) decidable.current = review;
      },
    );
  };

  const retry = () => {
    setProblem(null);
    setStatus('loading');
    void claimNext();
  };

  return { current, status, reviewDepth, decided, problem, decide, retry };
}

import type { ProjectDto, ReviewDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { ClaimStatus } from '../labeling/claim-state';
import { LeaseExpiredError } from '../labeling/lease';
import { useClaimLoop, useClaimState } from '../labeling/use-claim-loop';
import { useProblem } from '../session/use-problem';
import type { ReviewApi } from './review-api';

export interface ReviewQueue {
  /** The disagreement on screen; null while loading and when there is none. */
  current: ReviewDto | null;
  status: ClaimStatus;
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
  const [decided, setDecided] = useState(0);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const claims = useClaimState<ReviewDto>(fail);
  const { current, status, actionable, dispatch, load } = claims;
  // The review this screen holds a lease on, until it is decided or lost.
  const held = useRef<ReviewDto | null>(null);

  const claimNext = useCallback(async () => {
    held.current = (await load(api.claim(project.id).then((response) => ({ item: response.review, depth: response.reviewDepth })))) ?? null;
  }, [api, load, project.id]);

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

  useReleaseOnLeave(api, held);

  const heartbeat = () => {
    const review = actionable.current;
    if (review) api.heartbeat(review.sampleId, review.token).catch(failOrMoveOn);
  };
  useClaimLoop({ ...claims, claimNext, heartbeat });

  const decide = (className: string) => {
    const review = actionable.current;
    if (!review) return;
    actionable.current = null;
    setProblem(null);
    api.decide(review.sampleId, review.token, className).then(
      () => {
        held.current = null;
        setDecided((count) => count + 1);
        void claimNext();
      },
      (error: unknown) => {
        // Still held (the cloud was out of reach, say): the same key tries again.
        if (!failOrMoveOn(error)) actionable.current = review;
      },
    );
  };

  const retry = () => {
    setProblem(null);
    dispatch({ type: 'retrying' });
    void claimNext();
  };

  return { current, status, reviewDepth: claims.depth, decided, problem, decide, retry };
}

/** Given back on leaving, another reviewer can take the one held now rather than when the lease runs out. */
function useReleaseOnLeave(api: ReviewApi, held: RefObject<ReviewDto | null>): void {
  useEffect(
    () => () => {
      const review = held.current;
      if (review) api.release(review.sampleId, review.token).catch(() => undefined);
    },
    [api, held],
  );
}

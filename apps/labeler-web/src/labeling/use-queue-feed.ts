import type { ClaimDto, ClaimResponse } from '@loupe/api-contracts';
import { useCallback, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { ClaimStatus } from './claim-state';
import type { GivenAnswer, LabelingApi } from './labeling-api';
import { useClaimLoop, useClaimState } from './use-claim-loop';

export interface QueueFeed {
  current: ClaimDto | null;
  status: ClaimStatus;
  /** Samples waiting in the project for anyone, as the last claim said. */
  queueDepth: number;
  /** The answer taken back, while its sample is on screen again. */
  previousAnswer: GivenAnswer | null;
  /** The sample actions act on; emptied by the first, so a second press cannot answer it twice. */
  actionable: RefObject<ClaimDto | null>;
  /** Set while another sample is on its way to the screen, so two changes never race for it. */
  changing: RefObject<boolean>;
  /** When the sample on screen was shown: the time spent on it goes with the answer. */
  shownAt: RefObject<number>;
  show: (claim: ClaimDto | null, answered?: GivenAnswer | null) => void;
  /** Shows the claimed next sample; `following` (or else a fresh claim) becomes the one after it. */
  advance: (following?: Promise<ClaimResponse>) => Promise<void>;
  retry: () => void;
}

function preload(claims: Promise<ClaimResponse>): void {
  claims.then((response) => {
    if (response.claim) new Image().src = response.claim.imageUrl;
  }, () => undefined);
}

/**
 * The samples of a project's queue as they reach the screen: one on
 * screen and the next already claimed, its image loading, so an answer
 * shows the next at once. Held leases are kept alive; an empty queue or a
 * failed claim is asked again every few seconds.
 */
export function useQueueFeed(api: LabelingApi, projectId: string, fail: (error: unknown) => void): QueueFeed {
  const claims = useClaimState<ClaimDto>(fail);
  const { current, status, actionable, changing, dispatch, load } = claims;
  const [previousAnswer, setPreviousAnswer] = useState<GivenAnswer | null>(null);
  const next = useRef<Promise<ClaimResponse> | null>(null);
  const shownAt = useRef(performance.now());

  const show = useCallback(
    (claim: ClaimDto | null, answered: GivenAnswer | null = null) => {
      dispatch({ type: 'shown', item: claim });
      setPreviousAnswer(answered);
    },
    [dispatch],
  );

  // A sample's time starts as it is in the page.
  useLayoutEffect(() => {
    shownAt.current = performance.now();
  }, [current]);

  const advance = useCallback(
    async (following?: Promise<ClaimResponse>) => {
      const pending = next.current ?? api.claim(projectId);
      next.current = following ?? null;
      if (following) preload(following);
      const shown = await load(pending.then((response) => ({ item: response.claim, depth: response.queueDepth })));
      if (shown === undefined) {
        next.current = null;
        return;
      }
      setPreviousAnswer(null);
      if (shown && !next.current) {
        next.current = api.claim(projectId);
        preload(next.current);
      }
    },
    [api, load, projectId],
  );

  const heartbeat = () => {
    const held = actionable.current;
    if (held) api.heartbeat(held.sampleId, held.token).catch(fail);
    void next.current?.then((response) => response.claim && api.heartbeat(response.claim.sampleId, response.claim.token)).catch(() => undefined);
  };
  useClaimLoop({ status, current, changing, claimNext: advance, heartbeat });

  const retry = () => {
    dispatch({ type: 'retrying' });
    void advance();
  };

  return { current, status, queueDepth: claims.depth, previousAnswer, actionable, changing, shownAt, show, advance, retry };
}

import type { ClaimDto, ClaimResponse } from '@loupe/api-contracts';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { GivenAnswer, LabelingApi } from './labeling-api';
import { HEARTBEAT_MS } from './lease';
import { useEvery } from './use-every';

/** How often an empty queue, or one the cloud did not hand out, is asked again. */
const EMPTY_QUEUE_RETRY_MS = 5_000;

export type FeedStatus = 'loading' | 'labeling' | 'empty' | 'failed';

export interface QueueFeed {
  current: ClaimDto | null;
  status: FeedStatus;
  /** Samples waiting in the project for anyone, as the last claim said. */
  queueDepth: number;
  /** The answer taken back, while its sample is on screen again. */
  previousAnswer: GivenAnswer | null;
  /** The sample actions act on; emptied by the first, so a second press cannot answer it twice. */
  answerable: RefObject<ClaimDto | null>;
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
  const [current, setCurrent] = useState<ClaimDto | null>(null);
  const [status, setStatus] = useState<FeedStatus>('loading');
  const [queueDepth, setQueueDepth] = useState(0);
  const [previousAnswer, setPreviousAnswer] = useState<GivenAnswer | null>(null);
  const next = useRef<Promise<ClaimResponse> | null>(null);
  const answerable = useRef<ClaimDto | null>(null);
  const changing = useRef(false);
  const shownAt = useRef(performance.now());

  const show = useCallback((claim: ClaimDto | null, answered: GivenAnswer | null = null) => {
    setCurrent(claim);
    setPreviousAnswer(answered);
    setStatus(claim ? 'labeling' : 'empty');
  }, []);

  // Actions reach a sample from the moment it is in the page (layout effects
  // run as the render is committed, before any later event), and its time starts then.
  useLayoutEffect(() => {
    answerable.current = current;
    shownAt.current = performance.now();
  }, [current]);

  const advance = useCallback(
    async (following?: Promise<ClaimResponse>) => {
      const pending = next.current ?? api.claim(projectId);
      next.current = following ?? null;
      if (following) preload(following);
      changing.current = true;
      try {
        const response = await pending;
        setQueueDepth(response.queueDepth);
        show(response.claim);
        if (response.claim && !next.current) {
          next.current = api.claim(projectId);
          preload(next.current);
        }
      } catch (error) {
        // Nothing to show: the screen says what went wrong and claims again (itself, or on Try again).
        next.current = null;
        setCurrent(null);
        setStatus('failed');
        fail(error);
      } finally {
        changing.current = false;
      }
    },
    [api, fail, projectId, show],
  );

  useEffect(() => {
    void advance();
  }, [advance]);

  useEvery(status === 'empty' || status === 'failed' ? EMPTY_QUEUE_RETRY_MS : null, () => {
    if (!changing.current) void advance();
  });

  useEvery(current ? HEARTBEAT_MS : null, () => {
    const held = answerable.current;
    if (held) api.heartbeat(held.sampleId, held.token).catch(fail);
    void next.current?.then((response) => response.claim && api.heartbeat(response.claim.sampleId, response.claim.token)).catch(() => undefined);
  });

  const retry = () => {
    setStatus('loading');
    void advance();
  };

  return { current, status, queueDepth, previousAnswer, answerable, changing, shownAt, show, advance, retry };
}

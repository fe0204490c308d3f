import { useCallback, useEffect, useLayoutEffect, useReducer, useRef, type RefObject } from 'react';
import { claimState, NOTHING_CLAIMED, type ClaimState } from './claim-state';
import { HEARTBEAT_MS } from './lease';
import { useEvery } from './use-every';

/** How often an empty queue, or one the cloud did not hand out, is asked again. */
const NOTHING_SHOWN_RETRY_MS = 5_000;

/**
 * The item on screen of a screen that works on one leased item at a time
 * (the label queue, review), and the refs its actions and timers share.
 */
export function useClaimState<T>(fail: (error: unknown) => void) {
  const [state, dispatch] = useReducer(claimState<T>, NOTHING_CLAIMED);
  // The item actions act on; emptied by the first, so a second press cannot act on it twice.
  const actionable = useRef<T | null>(null);
  // Set while another item is on its way to the screen, so two changes never race for it.
  const changing = useRef(false);

  // Actions reach an item from the moment it is in the page (layout effects
  // run as the render is committed, before any later event).
  useLayoutEffect(() => {
    actionable.current = state.current;
  }, [state.current]);

  /**
   * Shows the item `pending` claims. Resolves to it (null when there was
   * none), or to undefined when the claim failed: then nothing is shown and
   * the screen says what went wrong and claims again (itself, or on Try again).
   */
  const load = useCallback(
    async (pending: Promise<{ item: T | null; depth: number }>): Promise<T | null | undefined> => {
      changing.current = true;
      try {
        const { item, depth } = await pending;
        dispatch({ type: 'shown', item, depth });
        return item;
      } catch (error) {
        dispatch({ type: 'failed' });
        fail(error);
        return undefined;
      } finally {
        changing.current = false;
      }
    },
    [fail],
  );

  return { ...state, dispatch, actionable, changing, load };
}

interface ClaimLoop {
  status: ClaimState<unknown>['status'];
  current: unknown;
  changing: RefObject<boolean>;
  /** Claims the next item and shows it; a new function starts the loop again. */
  claimNext: () => Promise<void>;
  /** Extends the leases held. */
  heartbeat: () => void;
}

/**
 * Keeps a one-at-a-time screen supplied: it claims at the start, again
 * every few seconds while there is nothing to show, and keeps the lease on
 * what is shown alive.
 */
export function useClaimLoop({ status, current, changing, claimNext, heartbeat }: ClaimLoop): void {
  useEffect(() => {
    void claimNext();
  }, [claimNext]);

  useEvery(status === 'empty' || status === 'failed' ? NOTHING_SHOWN_RETRY_MS : null, () => {
    if (!changing.current) void claimNext();
  });

  useEvery(current ? HEARTBEAT_MS : null, heartbeat);
}

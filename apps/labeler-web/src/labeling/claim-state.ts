/** Whether something is on screen: `showing` it, nothing to show (`empty`), or the claim `failed`; `loading` until the cloud answers. */
export type ClaimStatus = 'loading' | 'showing' | 'empty' | 'failed';

/** What a screen that works on one leased item at a time (a sample to label, a disagreement to settle) shows. */
export interface ClaimState<T> {
  /** The item on screen; null while loading, when there is none and when claiming failed. */
  current: T | null;
  status: ClaimStatus;
  /** Items waiting in the project for anyone, the one on screen included, as the last claim said. */
  depth: number;
}

export type ClaimEvent<T> =
  /** An item (or none) is on screen; `depth` comes with a claim's answer, and stays as it was without one. */
  | { type: 'shown'; item: T | null; depth?: number }
  | { type: 'failed' }
  | { type: 'retrying' };

export const NOTHING_CLAIMED: ClaimState<never> = { current: null, status: 'loading', depth: 0 };

export function claimState<T>(state: ClaimState<T>, event: ClaimEvent<T>): ClaimState<T> {
  switch (event.type) {
    case 'shown':
      return { current: event.item, status: event.item ? 'showing' : 'empty', depth: event.depth ?? state.depth };
    case 'failed':
      return { ...state, current: null, status: 'failed' };
    case 'retrying':
      return { ...state, status: 'loading' };
  }
}

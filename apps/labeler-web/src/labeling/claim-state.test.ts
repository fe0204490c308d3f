import { describe, expect, it } from 'vitest';
import { claimState, NOTHING_CLAIMED, type ClaimState } from './claim-state';

describe('claimState', () => {
  it('shows a claimed item with the depth its claim said', () => {
    expect(claimState<string>(NOTHING_CLAIMED, { type: 'shown', item: 'a', depth: 3 })).toEqual({ current: 'a', status: 'showing', depth: 3 });
  });

  it('is empty when a claim brings nothing, and keeps the depth when none is said', () => {
    const showing: ClaimState<string> = { current: 'a', status: 'showing', depth: 3 };
    expect(claimState(showing, { type: 'shown', item: null })).toEqual({ current: null, status: 'empty', depth: 3 });
  });

  it('shows nothing after a failed claim, and is loading again on retry without forgetting the depth', () => {
    const failed = claimState<string>({ current: 'a', status: 'showing', depth: 2 }, { type: 'failed' });
    expect(failed).toEqual({ current: null, status: 'failed', depth: 2 });
    expect(claimState(failed, { type: 'retrying' })).toEqual({ current: null, status: 'loading', depth: 2 });
  });
});

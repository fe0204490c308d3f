import { describe, expect, it } from 'vitest';
import { initialPolledState, nextPolledState, type PolledState } from './polled-state';

const start: PolledState<string[]> = initialPolledState;

describe('nextPolledState', () => {
  it('starts out loading', () => {
    expect(start).toEqual({ status: 'loading' });
  });

  it('shows the answer of a successful poll', () => {
    expect(nextPolledState(start, { type: 'received', value: ['aoi-03'] })).toEqual({ status: 'loaded', value: ['aoi-03'], problem: null });
  });

  it('fails when the first poll fails', () => {
    expect(nextPolledState(start, { type: 'failed', problem: 'Cannot reach the cloud.' })).toEqual({ status: 'failed', problem: 'Cannot reach the cloud.' });
  });

  it('keeps the answer it has when a later poll fails, and says so', () => {
    const loaded = nextPolledState(start, { type: 'received', value: ['aoi-03'] });
    expect(nextPolledState(loaded, { type: 'failed', problem: 'Cannot reach the cloud.' })).toEqual({
      status: 'loaded',
      value: ['aoi-03'],
      problem: 'Cannot reach the cloud.',
    });
  });

  it('clears the problem once a poll succeeds again', () => {
    const failed = nextPolledState(start, { type: 'failed', problem: 'Cannot reach the cloud.' });
    expect(nextPolledState(failed, { type: 'received', value: [] })).toEqual({ status: 'loaded', value: [], problem: null });
  });
});

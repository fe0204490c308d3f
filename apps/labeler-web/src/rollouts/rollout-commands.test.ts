import { ROLLOUT_STATE_NAMES } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { allowsCommand, isLive, ROLLOUT_COMMANDS, type RolloutState } from './rollout-commands';

const allowedIn = (state: RolloutState) => ROLLOUT_COMMANDS.filter((command) => allowsCommand(state, command));

describe('allowsCommand', () => {
  it('lets a running rollout be paused, aborted or promoted, but not resumed', () => {
    expect(allowedIn('running')).toEqual(['pause', 'abort', 'promote']);
  });

  it('lets a paused rollout be resumed, aborted or promoted', () => {
    expect(allowedIn('paused')).toEqual(['resume', 'abort', 'promote']);
  });

  it('allows nothing while the rollout is taking devices back, or once it has ended', () => {
    for (const state of ['rolling_back', 'aborting', 'succeeded', 'rolled_back', 'aborted'] as const) expect(allowedIn(state)).toEqual([]);
  });
});

describe('isLive', () => {
  it('keeps polling every state the controller still works on, and stops at the end', () => {
    expect(ROLLOUT_STATE_NAMES.filter(isLive)).toEqual(['running', 'paused', 'rolling_back', 'aborting']);
  });
});

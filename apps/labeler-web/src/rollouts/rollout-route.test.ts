import { describe, expect, it } from 'vitest';
import { rolloutHref, rolloutIdOf } from './rollout-route';

const ID = '0b7e4c8a-9d2f-4c1e-8a3b-5f6d7e8c9a0b';

describe('rollout routes', () => {
  it('reads the selected rollout from the address, and back', () => {
    expect(rolloutHref(ID)).toBe(`#/rollouts/${ID}`);
    expect(rolloutIdOf(rolloutHref(ID))).toBe(ID);
  });

  it('selects no rollout on the list or on another screen', () => {
    expect(rolloutIdOf('#/rollouts')).toBeNull();
    expect(rolloutIdOf('#/rollouts/')).toBeNull();
    expect(rolloutIdOf('#/fleet')).toBeNull();
  });

  it('keeps an id with characters an address escapes in one piece', () => {
    expect(rolloutIdOf(rolloutHref('a/b c'))).toBe('a/b c');
    expect(rolloutIdOf('#/rollouts/50%')).toBe('50%');
  });
});

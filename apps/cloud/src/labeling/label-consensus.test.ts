import { describe, expect, it } from 'vitest';
import { stateAfterAnswer } from './label-consensus';

describe('stateAfterAnswer', () => {
  it('settles a sample with one answer when K is 1', () => {
    expect(stateAfterAnswer(['scratch'], 1)).toBe('done');
  });

  it('keeps a sample open until K answers agree', () => {
    expect(stateAfterAnswer(['scratch'], 3)).toBe('open');
    expect(stateAfterAnswer(['scratch', 'scratch'], 3)).toBe('open');
    expect(stateAfterAnswer(['scratch', 'scratch', 'scratch'], 3)).toBe('done');
  });

  it('sends the first disagreement to review', () => {
    expect(stateAfterAnswer(['scratch', 'ok'], 3)).toBe('review');
  });
});

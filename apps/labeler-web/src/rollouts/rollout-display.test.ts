import { describe, expect, it } from 'vitest';
import { eventSummary, stateLabel, versionChange } from './rollout-display';

describe('stateLabel', () => {
  it('writes states as words', () => {
    expect(stateLabel('rolling_back')).toBe('rolling back');
    expect(stateLabel('running')).toBe('running');
  });
});

describe('versionChange', () => {
  it('shows where the rollout goes from and to', () => {
    expect(versionChange({ fromVersion: 3, toVersion: 4 })).toBe('v3 → v4');
  });
});

describe('eventSummary', () => {
  it("keeps a command's reason and stage", () => {
    expect(eventSummary({ reason: 'line 3 is down', stage: 0 })).toBe('reason: line 3 is down · stage: 0');
  });

  it('joins lists of plain values and leaves nested records out', () => {
    const gateFailed = { stage: 1, failed: ['uncertain-rate', 'errors'], checks: [{ gate: 'errors' }], candidate: { inspections: 400 } };
    expect(eventSummary(gateFailed)).toBe('stage: 1 · failed: uncertain-rate, errors');
  });
});

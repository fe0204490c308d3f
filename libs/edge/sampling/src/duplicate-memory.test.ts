import { describe, expect, it } from 'vitest';
import { DuplicateMemory } from './duplicate-memory';

const settings = { duplicateDistance: 2, duplicateMemory: 3 };

describe('DuplicateMemory', () => {
  it('finds a hash within the distance of a remembered one at the same station', () => {
    const memory = new DuplicateMemory(10);
    memory.remember('station-1', 0b0000n, settings);
    expect(memory.isNearDuplicate('station-1', 0b0011n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-1', 0b0111n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-2', 0b0000n, settings)).toBe(false);
  });

  it('compares with the latest duplicateMemory hashes only', () => {
    const memory = new DuplicateMemory(10);
    for (const hash of [0xf0n, 0xf00n, 0xf000n, 0xf0000n]) memory.remember('station-1', hash, settings);
    expect(memory.isNearDuplicate('station-1', 0xf0n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-1', 0xf00n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-1', 0xf00n, { ...settings, duplicateMemory: 2 })).toBe(false);
  });

  it('forgets the station seen least recently past maxStations', () => {
    const memory = new DuplicateMemory(2);
    memory.remember('station-1', 1n, settings);
    memory.remember('station-2', 2n, settings);
    memory.touch('station-1');
    memory.remember('station-3', 3n, settings);
    expect(memory.isNearDuplicate('station-1', 1n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-2', 2n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-3', 3n, settings)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { SelectionMemory } from './selection-memory';

const settings = { duplicateDistance: 2, duplicateMemory: 3 };

describe('SelectionMemory', () => {
  it('finds a hash within the distance of a remembered one at the same station', () => {
    const memory = new SelectionMemory(10);
    memory.remember('station-1', { hash: 0b0000n }, settings);
    expect(memory.isNearDuplicate('station-1', 0b0011n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-1', 0b0111n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-2', 0b0000n, settings)).toBe(false);
  });

  it('compares with the latest duplicateMemory hashes only', () => {
    const memory = new SelectionMemory(10);
    for (const hash of [0xf0n, 0xf00n, 0xf000n, 0xf0000n]) memory.remember('station-1', { hash }, settings);
    expect(memory.isNearDuplicate('station-1', 0xf0n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-1', 0xf00n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-1', 0xf00n, { ...settings, duplicateMemory: 2 })).toBe(false);
  });

  it('measures novelty against the station recent selections that have features', () => {
    const memory = new SelectionMemory(10);
    expect(memory.novelty('station-1', new Float32Array([1, 0]), settings)).toBe(1);
    memory.remember('station-1', { hash: 1n }, settings);
    expect(memory.novelty('station-1', new Float32Array([1, 0]), settings)).toBe(1);
    memory.remember('station-1', { hash: 2n, features: new Float32Array([1, 1]) }, settings);
    expect(memory.novelty('station-1', new Float32Array([1, 0]), settings)).toBeCloseTo(1 - Math.SQRT1_2, 6);
    expect(memory.novelty('station-2', new Float32Array([1, 1]), settings)).toBe(1);
    for (const hash of [3n, 4n, 5n]) memory.remember('station-1', { hash }, settings);
    expect(memory.novelty('station-1', new Float32Array([1, 1]), settings)).toBe(1);
  });

  it('forgets the station seen least recently past maxStations', () => {
    const memory = new SelectionMemory(2);
    memory.remember('station-1', { hash: 1n }, settings);
    memory.remember('station-2', { hash: 2n }, settings);
    memory.touch('station-1');
    memory.remember('station-3', { hash: 3n }, settings);
    expect(memory.isNearDuplicate('station-1', 1n, settings)).toBe(true);
    expect(memory.isNearDuplicate('station-2', 2n, settings)).toBe(false);
    expect(memory.isNearDuplicate('station-3', 3n, settings)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import type { DeepPcbPair } from '../deeppcb';
import { CROP_CLASSES, cropsOf, pairShare, splitCrops, UNSEEN_TEST_GROUPS } from './crop-dataset';

function pair(group: string, index: number): DeepPcbPair {
  const id = `${group}${String(index).padStart(3, '0')}`;
  return {
    group,
    id,
    testPath: `${id}_test.jpg`,
    templatePath: `${id}_temp.jpg`,
    boxes: [
      { x1: 10, y1: 20, x2: 40, y2: 30, type: 'short' },
      { x1: 0, y1: 0, x2: 5, y2: 5, type: 'pin_hole' },
    ],
  };
}

const groups = ['00041', '13000', '20085', ...UNSEEN_TEST_GROUPS];
const crops = cropsOf(groups.flatMap((group) => Array.from({ length: 40 }, (_, index) => pair(group, index))));

describe('cropsOf', () => {
  it('makes a defect crop from the tested image and a normal crop from the template at each box', () => {
    expect(cropsOf([pair('20085', 0)])).toEqual([
      { id: '20085000-0-defect', group: '20085', pairId: '20085000', imagePath: '20085000_test.jpg', box: { x: 10, y: 20, width: 30, height: 10 }, label: CROP_CLASSES.indexOf('short') },
      { id: '20085000-0-normal', group: '20085', pairId: '20085000', imagePath: '20085000_temp.jpg', box: { x: 10, y: 20, width: 30, height: 10 }, label: CROP_CLASSES.indexOf('normal') },
      { id: '20085000-1-defect', group: '20085', pairId: '20085000', imagePath: '20085000_test.jpg', box: { x: 0, y: 0, width: 5, height: 5 }, label: CROP_CLASSES.indexOf('pin_hole') },
      { id: '20085000-1-normal', group: '20085', pairId: '20085000', imagePath: '20085000_temp.jpg', box: { x: 0, y: 0, width: 5, height: 5 }, label: CROP_CLASSES.indexOf('normal') },
    ]);
  });
});

describe('splitCrops', () => {
  it.each(['within-board', 'unseen-board'] as const)('%s: pool and test are disjoint, cover every crop and keep the crops of a pair together', (protocol) => {
    const { pool, test } = splitCrops(crops, protocol);
    expect(pool.length + test.length).toBe(crops.length);
    const poolPairs = new Set(pool.map((crop) => crop.pairId));
    expect(test.some((crop) => poolPairs.has(crop.pairId))).toBe(false);
  });

  it('within-board: tests on about 30 % of every group, the pool holding the rest of it', () => {
    const { pool, test } = splitCrops(crops, 'within-board');
    for (const group of groups) {
      const tested = test.filter((crop) => crop.group === group).length;
      const pooled = pool.filter((crop) => crop.group === group).length;
      expect(tested / (tested + pooled)).toBeGreaterThan(0.1);
      expect(tested / (tested + pooled)).toBeLessThan(0.5);
    }
  });

  it('unseen-board: tests only on groups the pool never holds', () => {
    const { pool, test } = splitCrops(crops, 'unseen-board');
    expect(new Set(test.map((crop) => crop.group))).toEqual(new Set(UNSEEN_TEST_GROUPS));
    expect(pool.some((crop) => UNSEEN_TEST_GROUPS.includes(crop.group))).toBe(false);
  });

  it('hashes a pair id into [0, 1), the same every time', () => {
    expect(pairShare('20085000')).toBe(pairShare('20085000'));
    for (const id of ['', 'a', '99999999']) {
      expect(pairShare(id)).toBeGreaterThanOrEqual(0);
      expect(pairShare(id)).toBeLessThan(1);
    }
  });
});

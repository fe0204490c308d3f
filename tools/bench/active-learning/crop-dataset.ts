/**
 * DeepPCB as a crop classifier: every defect box of a tested image is a
 * crop of its defect type, and the same box in the pair's defect-free
 * template is a `normal` crop. The crops are cut by the product's
 * FeatureExtractor (cropScale about the box); here they are only named.
 */
import type { ImageBox } from '@loupe/trainer';
import { DEFECT_TYPES, type DeepPcbPair } from '../deeppcb';

export const CROP_CLASSES: readonly string[] = [...DEFECT_TYPES, 'normal'];
const NORMAL = CROP_CLASSES.length - 1;

export interface Crop {
  /** `<pair id>-<box index>-<defect|normal>`: stable across runs, the feature cache's key. */
  id: string;
  /** Board group, e.g. "20085". */
  group: string;
  pairId: string;
  imagePath: string;
  box: ImageBox;
  /** Index into CROP_CLASSES. */
  label: number;
}

/** Two crops per defect box, the defect first; boxes in file order. */
export function cropsOf(pairs: readonly DeepPcbPair[]): Crop[] {
  return pairs.flatMap((pair) =>
    pair.boxes.flatMap((defect, index) => {
      const box = { x: defect.x1, y: defect.y1, width: defect.x2 - defect.x1, height: defect.y2 - defect.y1 };
      const common = { group: pair.group, pairId: pair.id, box };
      return [
        { ...common, id: `${pair.id}-${index}-defect`, imagePath: pair.testPath, label: DEFECT_TYPES.indexOf(defect.type) },
        { ...common, id: `${pair.id}-${index}-normal`, imagePath: pair.templatePath, label: NORMAL },
      ];
    }),
  );
}

export type Protocol = 'within-board' | 'unseen-board';

/**
 * The four smallest board groups (311 of the 999 pairs): boards the pool
 * never shows, for the unseen-board protocol. The pool then holds the three
 * largest groups, about two thirds of the pairs.
 */
export const UNSEEN_TEST_GROUPS: readonly string[] = ['44000', '50600', '77000', '92000'];

/** Share of each group's pairs that the within-board protocol tests on. */
const WITHIN_TEST_SHARE = 0.3;

/**
 * Pool and test crops by pair, never by crop, so a defect and the template
 * crop at its box are on the same side.
 * - within-board: every group; 30 % of each group's pairs (by a hash of the
 *   pair id, so the split does not move when pairs are added) are the test,
 *   the rest the pool.
 * - unseen-board: the test is every pair of UNSEEN_TEST_GROUPS, the pool
 *   every pair of the other groups.
 */
export function splitCrops(crops: readonly Crop[], protocol: Protocol): { pool: Crop[]; test: Crop[] } {
  const inTest = (crop: Crop) => (protocol === 'within-board' ? pairShare(crop.pairId) < WITHIN_TEST_SHARE : UNSEEN_TEST_GROUPS.includes(crop.group));
  return { pool: crops.filter((crop) => !inTest(crop)), test: crops.filter(inTest) };
}

/**
 * FNV-1a of the pair id, then MurmurHash3's finaliser (ids differ only in
 * their last digits, which FNV-1a alone leaves in the low bits), as a
 * number in [0, 1).
 */
export function pairShare(pairId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < pairId.length; i++) hash = Math.imul(hash ^ pairId.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return ((hash ^ (hash >>> 16)) >>> 0) / 2 ** 32;
}

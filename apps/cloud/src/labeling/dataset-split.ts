import { createHash } from 'node:crypto';

export type Split = 'train' | 'val' | 'test';

/**
 * A sample's split, 80/10/10, from a hash of its id alone: the same sample
 * lands in the same split in every export, however the dataset grows, so
 * no test image ever leaks into a later training set.
 */
export function splitOf(sampleId: string): Split {
  const bucket = createHash('sha256').update(sampleId.toLowerCase()).digest().readUInt32BE(0) % 100;
  if (bucket < 80) return 'train';
  return bucket < 90 ? 'val' : 'test';
}

import { createHash } from 'node:crypto';
import type { DatasetVersionDto } from '@loupe/api-contracts';

export type DatasetSplit = 'train' | 'val' | 'test';

/** One settled label of a sample, in the split the cloud's `splitOf` gave the sample. */
export interface DatasetEntry {
  sampleId: string;
  label: string;
  split: DatasetSplit;
}

const SPLITS: readonly DatasetSplit[] = ['train', 'val', 'test'];

/**
 * The version of a dataset: sha256 over its (sample id, label, split)
 * triples, each encoded as a JSON array (so no separator inside an id can
 * make two datasets collide), sorted by code unit and joined by newlines.
 * The same labels give the same hash in any order; any changed, added or
 * removed label gives another. A sample repeated with the same label (two
 * boxes of one class) counts twice. A sample in two splits is refused: it
 * would leak test images into training. Splits come from the cloud's
 * `splitOf` (apps/cloud/src/labeling/dataset-split.ts); this only records them.
 */
export function datasetVersion(entries: readonly DatasetEntry[]): DatasetVersionDto {
  const splitOfSample = new Map<string, DatasetSplit>();
  const counts = { train: 0, val: 0, test: 0 };
  const lines = entries.map(({ sampleId, label, split }) => {
    if (!SPLITS.includes(split)) throw new RangeError(`sample ${sampleId} is in split ${String(split)}; splits are ${SPLITS.join(', ')}`);
    const earlier = splitOfSample.get(sampleId);
    if (earlier !== undefined && earlier !== split) throw new RangeError(`sample ${sampleId} is in both ${earlier} and ${split}`);
    splitOfSample.set(sampleId, split);
    counts[split]++;
    return JSON.stringify([sampleId, label, split]);
  });
  // Default sort compares UTF-16 code units: the same order on every machine and locale.
  const hash = createHash('sha256').update(lines.sort().join('\n')).digest('hex');
  return { hash, labels: entries.length, ...counts };
}

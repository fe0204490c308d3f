import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { datasetVersionSchema } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { type DatasetEntry, datasetVersion } from './dataset-version';

const entries: DatasetEntry[] = [
  { sampleId: 's1', label: 'scratch', split: 'train' },
  { sampleId: 's2', label: 'ok', split: 'train' },
  { sampleId: 's3', label: 'ok', split: 'val' },
  { sampleId: 's4', label: 'open', split: 'test' },
];

const entryArbitrary = fc.record({
  sampleId: fc.string({ minLength: 1, maxLength: 12 }),
  label: fc.string({ maxLength: 8 }),
  split: fc.constantFrom('train' as const, 'val' as const, 'test' as const),
});
/** Entries whose sample ids each keep one split, as the cloud's splitOf guarantees. */
const datasetArbitrary = fc.uniqueArray(entryArbitrary, { selector: (entry) => entry.sampleId, minLength: 1, maxLength: 40 });

describe('datasetVersion', () => {
  it('counts labels per split and hashes them in the documented encoding', () => {
    const version = datasetVersion(entries);
    expect(datasetVersionSchema.parse(version)).toEqual({ hash: version.hash, labels: 4, train: 2, val: 1, test: 1 });
    expect(version.hash).toMatch(/^[0-9a-f]{64}$/);
    const canonical = ['["s1","scratch","train"]', '["s2","ok","train"]', '["s3","ok","val"]', '["s4","open","test"]'].join('\n');
    expect(version.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('gives the same version in any order', () => {
    fc.assert(
      fc.property(datasetArbitrary.chain((dataset) => fc.tuple(fc.constant(dataset), fc.shuffledSubarray(dataset, { minLength: dataset.length, maxLength: dataset.length }))), ([dataset, shuffled]) => {
        expect(datasetVersion(shuffled)).toEqual(datasetVersion(dataset));
      }),
    );
  });

  it('changes when any label, sample id or split changes, or a label is added or removed', () => {
    fc.assert(
      fc.property(datasetArbitrary, fc.nat(), fc.constantFrom('sampleId', 'label', 'split', 'add', 'remove'), (dataset, pick, change) => {
        const index = pick % dataset.length;
        const entry = dataset[index]!;
        const others = dataset.filter((_, i) => i !== index);
        const changed: Record<typeof change, DatasetEntry[]> = {
          sampleId: [...others, { ...entry, sampleId: `${entry.sampleId}'` }],
          label: [...others, { ...entry, label: `${entry.label}'` }],
          split: [...others, { ...entry, split: entry.split === 'train' ? 'val' : 'train' }],
          add: [...dataset, { ...entry }],
          remove: others,
        };
        fc.pre(change !== 'sampleId' || !others.some((other) => other.sampleId === `${entry.sampleId}'`));
        expect(datasetVersion(changed[change]).hash).not.toBe(datasetVersion(dataset).hash);
      }),
    );
  });

  it('cannot be fooled by separators inside ids and labels', () => {
    const a = datasetVersion([{ sampleId: 'a","b', label: 'c', split: 'train' }]);
    const b = datasetVersion([{ sampleId: 'a', label: 'b","c', split: 'train' }]);
    const c = datasetVersion([{ sampleId: 'x\ny', label: 'ok', split: 'train' }]);
    const d = datasetVersion([{ sampleId: 'x', label: 'ok', split: 'train' }, { sampleId: 'y', label: 'ok', split: 'train' }]);
    expect(a.hash).not.toBe(b.hash);
    expect(c.hash).not.toBe(d.hash);
  });

  it('versions an empty dataset', () => {
    expect(datasetVersion([])).toMatchObject({ labels: 0, train: 0, val: 0, test: 0 });
  });

  it('refuses a sample in two splits, and a split it does not know', () => {
    expect(() => datasetVersion([...entries, { sampleId: 's1', label: 'ok', split: 'test' }])).toThrow(/s1 is in both train and test/);
    expect(() => datasetVersion([{ sampleId: 's1', label: 'ok', split: 'holdout' as 'test' }])).toThrow(RangeError);
  });
});

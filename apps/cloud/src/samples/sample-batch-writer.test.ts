import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobs/blob-store';
import { SampleBatchWriter } from './sample-batch-writer';
import type { SampleRecord } from './sample-payload';
import type { SampleRepository, SampleRow } from './sample.repository';

function sample(id = randomUUID()): SampleRecord {
  return { id, image: Buffer.from(id), imageMediaType: 'image/jpeg' } as SampleRecord;
}

/** An in-memory repository and blob store that record how they were called. */
function fakes({ failInsert = false } = {}) {
  const blobs = new Map<string, Buffer>();
  const rows = new Set<string>();
  const inserts: string[][] = [];
  const repository = {
    insertManyIfAbsent(batch: SampleRow[]) {
      inserts.push(batch.map((row) => row.sample.id));
      if (failInsert) return Promise.reject(new Error('database unavailable'));
      const inserted = new Set<string>();
      for (const { sample: stored } of batch) {
        if (rows.has(stored.id)) continue;
        rows.add(stored.id);
        inserted.add(stored.id);
      }
      return Promise.resolve(inserted);
    },
  } as unknown as SampleRepository;
  const store = {
    exists: (key: string) => Promise.resolve(blobs.has(key)),
    put: (key: string, body: Buffer) => {
      blobs.set(key, body);
      return Promise.resolve();
    },
  } as unknown as BlobStore;
  return { blobs, rows, inserts, repository, store };
}

describe('SampleBatchWriter', () => {
  it('writes a lone sample at once and gathers the ones that arrive meanwhile into the next group', async () => {
    const { inserts, repository, store, blobs } = fakes();
    const writer = new SampleBatchWriter(repository, store, { maxBatch: 3, blobConcurrency: 2 });
    const samples = Array.from({ length: 6 }, () => sample());
    const results = await Promise.all(samples.map((each) => writer.store(each, `k/${each.id}`)));
    expect(results).toEqual([true, true, true, true, true, true]);
    expect(inserts.map((group) => group.length)).toEqual([1, 3, 2]);
    expect([...blobs.keys()].sort()).toEqual(samples.map((each) => `k/${each.id}`).sort());
  });

  it('counts a sample delivered twice in one group as inserted once', async () => {
    const { repository, store } = fakes();
    const writer = new SampleBatchWriter(repository, store, { maxBatch: 8, blobConcurrency: 2 });
    const first = writer.store(sample(), 'k/first');
    const twice = sample();
    const results = await Promise.all([first, writer.store(twice, `k/${twice.id}`), writer.store({ ...twice }, `k/${twice.id}`)]);
    expect(results).toEqual([true, true, false]);
  });

  it('fails every sample of a group the database refuses, and keeps writing later groups', async () => {
    const failing = fakes({ failInsert: true });
    const writer = new SampleBatchWriter(failing.repository, failing.store, { maxBatch: 8, blobConcurrency: 2 });
    const outcomes = await Promise.allSettled([writer.store(sample(), 'k/a'), writer.store(sample(), 'k/b')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(failing.inserts.length).toBe(2);
    await expect(writer.store(sample(), 'k/c')).rejects.toThrow('database unavailable');
    expect(failing.inserts.length).toBe(3);
  });
});

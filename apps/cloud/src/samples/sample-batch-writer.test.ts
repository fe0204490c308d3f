import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobs/blob-store';
import type { IncomingSample } from '../labeling/labeling-queue';
import { SampleBatchWriter } from './sample-batch-writer';
import type { SampleRecord } from './sample-payload';
import type { SampleRepository, SampleRow } from './sample.repository';

function sample(id: string = randomUUID()): SampleRecord {
  return {
    id,
    siteId: 'plant',
    deviceId: 'aoi-1',
    stationId: 'line-1',
    unitSerial: '',
    capturedAt: new Date(),
    modelName: 'pcb-aoi',
    modelVersion: '1',
    verdict: 'reject',
    prediction: { scores: [{ label: 'ok', score: 0.4 }, { label: 'scratch', score: 0.6 }], boxes: [] },
    priority: 0.8,
    reason: 'margin',
    image: Buffer.from(id),
    imageSha256: '',
    imageMediaType: 'image/jpeg',
  };
}

/** An in-memory repository and blob store that record how they were called. */
function fakes({ failInsert = false } = {}) {
  const blobs = new Map<string, Buffer>();
  const rows = new Set<string>();
  const inserts: string[][] = [];
  const repository = {
    storedIds: (ids: string[]) => Promise.resolve(new Set(ids.filter((id) => rows.has(id)))),
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
  const puts: string[] = [];
  const store = {
    put: (key: string, body: Buffer) => {
      puts.push(key);
      blobs.set(key, body);
      return Promise.resolve();
    },
  } as unknown as BlobStore;
  const queued: IncomingSample[] = [];
  const queue = {
    enqueue: (samples: IncomingSample[]) => {
      queued.push(...samples);
      return Promise.resolve();
    },
  };
  return { blobs, puts, rows, inserts, repository, store, queue, queued };
}

describe('SampleBatchWriter', () => {
  it('writes a lone sample at once and gathers the ones that arrive meanwhile into the next group', async () => {
    const { inserts, repository, store, blobs, queue, queued } = fakes();
    const writer = new SampleBatchWriter(repository, store, queue, { maxBatch: 3, blobConcurrency: 2 });
    const samples = Array.from({ length: 6 }, () => sample());
    const results = await Promise.all(samples.map((each) => writer.store(each, `k/${each.id}`)));
    expect(results).toEqual([true, true, true, true, true, true]);
    expect(inserts.map((group) => group.length)).toEqual([1, 3, 2]);
    expect([...blobs.keys()].sort()).toEqual(samples.map((each) => `k/${each.id}`).sort());
    expect(queued.map((each) => each.id).sort()).toEqual(samples.map((each) => each.id).sort());
    expect(queued[0]).toMatchObject({ modelName: 'pcb-aoi', predictedClass: 'scratch', samplerPriority: 0.8, reason: 'margin' });
  });

  it('counts a sample delivered twice in one group as inserted once', async () => {
    const { repository, store, queue, puts } = fakes();
    const writer = new SampleBatchWriter(repository, store, queue, { maxBatch: 8, blobConcurrency: 2 });
    const first = writer.store(sample(), 'k/first');
    const twice = sample();
    const results = await Promise.all([first, writer.store(twice, `k/${twice.id}`), writer.store({ ...twice }, `k/${twice.id}`)]);
    expect(results).toEqual([true, true, false]);
    expect(puts.filter((key) => key === `k/${twice.id}`)).toHaveLength(1);
  });

  it('leaves the image of a sample already stored alone, and queues the repeat again', async () => {
    const { repository, store, queue, queued, puts } = fakes();
    const writer = new SampleBatchWriter(repository, store, queue, { maxBatch: 8, blobConcurrency: 2 });
    const repeated = sample();
    expect(await writer.store(repeated, `k/${repeated.id}`)).toBe(true);
    expect(await writer.store({ ...repeated }, `k/${repeated.id}`)).toBe(false);
    expect(puts).toEqual([`k/${repeated.id}`]);
    expect(queued.map((each) => each.id)).toEqual([repeated.id, repeated.id]);
  });

  it('fails every sample of a group the database refuses, and keeps writing later groups', async () => {
    const failing = fakes({ failInsert: true });
    const writer = new SampleBatchWriter(failing.repository, failing.store, failing.queue, { maxBatch: 8, blobConcurrency: 2 });
    const outcomes = await Promise.allSettled([writer.store(sample(), 'k/a'), writer.store(sample(), 'k/b')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(failing.inserts.length).toBe(2);
    await expect(writer.store(sample(), 'k/c')).rejects.toThrow('database unavailable');
    expect(failing.inserts.length).toBe(3);
  });
});

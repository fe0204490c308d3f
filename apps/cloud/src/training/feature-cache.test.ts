import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../blobs/folder-blob-store';
import { openDatabase, type Database } from '../database/database';
import { FeatureCache, type FeatureSource } from './feature-cache';
import { SampleFeatureRepository } from './sample-feature.repository';
import type { TrainingExample } from './training-examples';

/** A stand-in backbone: a vector derived from the image bytes and the crop, counting what it computed. */
function countingBackbone(sha256 = randomUUID().replaceAll('-', '').padEnd(64, '0')): FeatureSource & { computed: string[] } {
  const computed: string[] = [];
  return {
    sha256,
    computed,
    features: (inputs) =>
      Promise.resolve(
        inputs.map(({ image, box }) => {
          computed.push(`${image.toString()}/${box ? JSON.stringify(box) : ''}`);
          const digest = createHash('sha256').update(image).update(JSON.stringify(box ?? null)).digest();
          return Float32Array.from(digest.subarray(0, 8), (byte) => byte / 255);
        }),
      ),
  };
}

describe('FeatureCache', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let scratch: string;
  let blobs: FolderBlobStore;
  let cache: FeatureCache;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    scratch = await mkdtemp(join(tmpdir(), 'feature-cache-'));
    blobs = new FolderBlobStore(join(scratch, 'blobs'));
    cache = new FeatureCache(new SampleFeatureRepository(database), blobs);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function storedExamples(count: number): Promise<TrainingExample[]> {
    const examples: TrainingExample[] = [];
    for (let i = 0; i < count; i++) {
      const sampleId = randomUUID();
      await blobs.put(`samples/${sampleId}`, Buffer.from(`image-${sampleId}`), 'image/png');
      examples.push({ sampleId, imageKey: `samples/${sampleId}`, cropKey: '', label: i % 2, className: String(i % 2), split: 'train' });
    }
    return examples;
  }

  const quietly = { onProgress: () => Promise.resolve(), signal: new AbortController().signal };

  it('computes only the samples the cache lacks: the next run pays for new samples alone, and gets the same vectors back', async () => {
    const backbone = countingBackbone();
    const first = await storedExamples(70);
    const firstRun = await cache.extract(backbone, first, quietly);
    expect(firstRun).toMatchObject({ computed: 70, cached: 0 });
    expect(backbone.computed).toHaveLength(70);

    const added = await storedExamples(5);
    const secondRun = await cache.extract(backbone, [...added.slice(0, 2), ...first, ...added.slice(2)], quietly);
    expect(secondRun).toMatchObject({ computed: 5, cached: 70 });
    expect(backbone.computed).toHaveLength(75);
    expect(secondRun.vectors.slice(2, 72)).toEqual(firstRun.vectors);
  });

  it('keys vectors by backbone bytes and crop: another backbone or another box is computed anew', async () => {
    const examples = await storedExamples(2);
    await cache.extract(countingBackbone('a'.repeat(64)), examples, quietly);
    const other = countingBackbone('b'.repeat(64));
    expect(await cache.extract(other, examples, quietly)).toMatchObject({ computed: 2, cached: 0 });
    const crops = examples.map((example) => ({ ...example, cropKey: '1,2,3,4@1.1', box: { x: 1, y: 2, width: 3, height: 4 } }));
    expect(await cache.extract(other, crops, quietly)).toMatchObject({ computed: 2, cached: 0 });
    expect(await cache.extract(other, [...crops, ...examples], quietly)).toMatchObject({ computed: 0, cached: 4 });
  });

  it('reports progress per batch up to the whole, and stops when its signal aborts', async () => {
    const examples = await storedExamples(130);
    const reports: [number, number][] = [];
    await cache.extract(countingBackbone(), examples, { ...quietly, onProgress: (done, total) => Promise.resolve(void reports.push([done, total])) });
    expect(reports).toEqual([32, 64, 96, 128, 130].map((done) => [done, 130]));
    const abort = new AbortController();
    abort.abort(new Error('cancelled'));
    await expect(cache.extract(countingBackbone(), examples, { ...quietly, signal: abort.signal })).rejects.toThrow('cancelled');
  });

  it('fails naming the sample whose image the backbone cannot read', async () => {
    const examples = await storedExamples(3);
    const broken = examples[1]!;
    await blobs.put(`broken/${broken.sampleId}`, Buffer.from('not an image'), 'image/png');
    const backbone = countingBackbone();
    const picky: FeatureSource = {
      sha256: backbone.sha256,
      features: (inputs) => (inputs.some(({ image }) => image.toString() === 'not an image') ? Promise.reject(new Error('image format not recognised')) : backbone.features(inputs)),
    };
    await expect(cache.extract(picky, [examples[0]!, { ...broken, imageKey: `broken/${broken.sampleId}` }, examples[2]!], quietly)).rejects.toThrow(
      `the features of sample ${broken.sampleId} (broken/${broken.sampleId}) could not be extracted: image format not recognised`,
    );
  });

  it('fails naming the sample whose image is gone from the blob store', async () => {
    const [example] = await storedExamples(1);
    const gone = { ...example!, sampleId: randomUUID(), imageKey: 'samples/gone' };
    await expect(cache.extract(countingBackbone(), [gone], quietly)).rejects.toThrow(`the image of sample ${gone.sampleId} (samples/gone) is not in the blob store`);
  });
});

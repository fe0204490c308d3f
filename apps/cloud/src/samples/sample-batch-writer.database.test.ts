import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../blobs/folder-blob-store';
import { openDatabase, type Database } from '../database/database';
import type { DB } from '../database/generated/database-types';
import { SampleBatchWriter } from './sample-batch-writer';
import type { SampleRecord } from './sample-payload';
import { SampleStoredEvents } from './sample-stored.events';
import { SampleRepository } from './sample.repository';
import { classifyStorageFailure } from './storage-failure';

function sample(overrides: Partial<SampleRecord> = {}): SampleRecord {
  const image = Buffer.from([0xff, 0xd8, 0xff, ...Buffer.from(randomUUID())]);
  return {
    id: randomUUID(),
    siteId: 'plant',
    deviceId: 'aoi-1',
    stationId: 'line-1',
    unitSerial: 'SN-1',
    capturedAt: new Date(),
    modelName: 'pcb-aoi',
    modelVersion: '1',
    verdict: 'reject',
    prediction: { scores: [{ label: 'scratch', score: 0.6 }], boxes: [] },
    priority: 0.8,
    reason: 'margin',
    image,
    imageSha256: createHash('sha256').update(image).digest('hex'),
    imageMediaType: 'image/jpeg',
    ...overrides,
  };
}

/**
 * The writer's last line of defence, on a real database: values that no
 * check before it caught (here handed to it directly) are refused by
 * Postgres, and that refusal must cost only the sample that carried them.
 */
describe('SampleBatchWriter on a real database', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let folder: string;
  let writer: SampleBatchWriter;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    folder = await mkdtemp(join(tmpdir(), 'loupe-writer-'));
    writer = new SampleBatchWriter(new SampleRepository(database.db), new FolderBlobStore(folder), new SampleStoredEvents(), { maxBatch: 16, blobConcurrency: 4 });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('stores the rest of a group when Postgres refuses one row for a NUL in its text or in its JSON, and says it was the content', async () => {
    const busy = sample();
    const group = [
      sample(),
      sample({ unitSerial: 'SN-0042\u0000\u0000' }),
      sample(),
      sample({ prediction: { scores: [{ label: 'scr\u0000atch', score: 0.6 }], boxes: [] } }),
      sample(),
    ];
    const outcomes = await Promise.allSettled([busy, ...group].map((each) => writer.store(each, `samples/plant/aoi-1/${each.id}.jpg`)));
    const summary = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.kind : classifyStorageFailure(outcome.reason)));
    expect(summary).toEqual(['stored', 'stored', 'content', 'stored', 'content', 'stored']);
    const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM samples WHERE id = ANY($1::uuid[]) ORDER BY id', [[busy, ...group].map((each) => each.id)]);
    expect(rows.map((row) => row.id)).toEqual([busy, group[0]!, group[2]!, group[4]!].map((each) => each.id).sort());
  });

  it("fails a sample as the cloud's own fault when Postgres cannot be reached", async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    const cut = new SampleBatchWriter(new SampleRepository(new Kysely<DB>({ dialect: new PostgresDialect({ pool: unreachable }) })), new FolderBlobStore(folder), new SampleStoredEvents(), { maxBatch: 16, blobConcurrency: 4 });
    const failure = await cut.store(sample(), 'samples/plant/aoi-1/unreachable.jpg').catch((error: unknown) => error);
    expect(classifyStorageFailure(failure)).toBe('infrastructure');
    await unreachable.end();
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, publicKeyToPem } from '@loupe/model-package';
import { eventually, startCloudProcess, startTestBroker, startTestDatabase, type CloudProcess, type TestBroker, type TestDatabase } from '@loupe/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../src/blobs/folder-blob-store';
import { squeezeNetBackbonePackage } from '../src/testing/model-packages';
import { boardImages, settleSamples } from '../src/testing/training-fixture';

// Enough samples that feature extraction lasts a few seconds, so the worker is killed in the middle of it.
const SAMPLES = 240;

/**
 * Issue 18, point 5: a killed worker's run is retried. A cloud process
 * trains a run and is killed (SIGKILL: no shutdown, no hand-back) while it
 * extracts features; the cloud started again on the same data finds the
 * run's lease run out, claims it as the next attempt and finishes it, with
 * the features the first attempt stored read back from the cache.
 */
describe('a training worker killed mid-run', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let db: pg.Client;
  const processes: CloudProcess[] = [];
  const publisher = generateSigningKey();

  const start = async () => {
    const cloud = await startCloudProcess({
      database,
      broker,
      dataDir,
      poolSize: database.maxConnections,
      env: { TRAINING_WORKER: 'true', TRAINING_POLL: '200ms', TRAINING_LEASE: '3s', REGISTRY_PUBLISHER_KEYS_FILE: join(dataDir, 'publishers.pem') },
    });
    processes.push(cloud);
    return cloud;
  };

  beforeAll(async () => {
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-training-killed-'));
    await writeFile(join(dataDir, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    for (const cloud of processes) await cloud.app.stop('SIGKILL').catch(() => undefined);
    await Promise.all([database?.stop(), broker?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is claimed again when its lease runs out, and finishes with what the first attempt cached', async () => {
    const first = await start();
    const pushed = await fetch(`${first.httpUrl}/api/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.admin.token}`, 'content-type': 'application/x-tar' },
      body: await squeezeNetBackbonePackage(dataDir, { signer: publisher }),
    });
    expect(pushed.status).toBe(201);
    const project = await first.call<{ id: string }>('POST', '/api/projects', { name: 'boards', modelName: 'boards', task: 'classification', classes: ['Normal', 'Defective'] });
    const images = await boardImages();
    const splits = ['train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'val', 'test'] as const;
    await settleSamples(
      db,
      // The cloud's blob folder, under the data directory startCloudProcess gives it.
      new FolderBlobStore(join(dataDir, 'cloud', 'cloud', 'blobs')),
      { projectId: project.id, modelName: 'boards', labelerId: first.admin.id },
      Array.from({ length: SAMPLES }, (_, index) => {
        const className = index % 2 === 0 ? 'Normal' : 'Defective';
        return { className, split: splits[index % splits.length]!, image: images[className][index % images[className].length]! };
      }),
    );

    const run = await first.call<{ id: string }>('POST', `/api/projects/${project.id}/training-runs`, {});
    await eventually(
      async () => {
        const current = await first.call<{ state: string; error: string | null; progress: { phase: string; done: number } | null }>('GET', `/api/training-runs/${run.id}`);
        expect(current).toMatchObject({ state: 'running', progress: { phase: 'features', done: expect.toSatisfy((done: number) => done >= 32) as unknown } });
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    await first.app.stop('SIGKILL');

    const second = await start();
    const finished = await eventually(
      async () => {
        const current = await second.call<{ state: string; attempts: number; error: string | null; features: { computed: number; cached: number } }>('GET', `/api/training-runs/${run.id}`);
        expect(current.error).toBeNull();
        expect(current.state).toBe('succeeded');
        return current;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(finished.attempts).toBe(2);
    expect(finished.features.cached).toBeGreaterThanOrEqual(32);
    expect(finished.features.computed + finished.features.cached).toBe(SAMPLES);
  }, 240_000);
});

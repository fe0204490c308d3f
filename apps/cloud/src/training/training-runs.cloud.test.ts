import { join } from 'node:path';
import { trainingRunSchema, type TrainingRunDto } from '@loupe/api-contracts';
import { eventually } from '@loupe/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../blobs/folder-blob-store';
import type { Split } from '../labeling/dataset-split';
import { pcbAoiPackage, squeezeNetBackbonePackage } from '../testing/model-packages';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';
import { TEST_ADMIN_PASSWORD } from '../testing/test-cloud-config';
import { boardImages, settleSamples } from '../testing/training-fixture';

/**
 * A run from settled labels to a registered candidate, in a cloud with its
 * worker on: the shipped SqueezeNet backbone pushed like any model, the demo
 * model serving the project, real board images.
 */
describe('training runs in a cloud', () => {
  let testCloud: TestCloud;
  let token: string;
  let adminId: string;
  let projectId: string;
  let db: pg.Client;
  let blobs: FolderBlobStore;
  let images: Record<'Normal' | 'Defective', Buffer[]>;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${testCloud.cloud.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': body instanceof Buffer ? 'application/x-tar' : 'application/json' }) },
      ...(body === undefined ? {} : { body: body instanceof Buffer ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Settles samples of the project's model with their class, the images cycling through each class's. */
  const settle = (samples: { className: 'Normal' | 'Defective'; split: Split }[]) =>
    settleSamples(
      db,
      blobs,
      { projectId, modelName: 'pcb-aoi', labelerId: adminId },
      samples.map(({ className, split }, index) => ({ className, split, image: images[className][index % images[className].length]! })),
    );

  async function trained(): Promise<TrainingRunDto> {
    const started = await call('POST', `/api/projects/${projectId}/training-runs`, {});
    expect(started.status).toBe(201);
    return eventually(
      async () => {
        const run = trainingRunSchema.parse((await call('GET', `/api/training-runs/${String(started.body.id)}`)).body);
        expect(run.error).toBeNull();
        expect(run.state).toBe('succeeded');
        return run;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  beforeAll(async () => {
    testCloud = await startTestCloud({ training: { worker: true, pollMs: 200, leaseSeconds: 30 } });
    blobs = new FolderBlobStore(join(testCloud.dataDir, 'blobs'));
    db = new pg.Client({ connectionString: testCloud.database.url });
    await db.connect();
    const login = await fetch(`${testCloud.cloud.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@loupe.test', password: TEST_ADMIN_PASSWORD }),
    });
    ({ token, user: { id: adminId } } = (await login.json()) as { token: string; user: { id: string } });
    expect((await call('POST', '/api/models', await squeezeNetBackbonePackage(testCloud.dataDir, { signer: testCloud.publisher }))).status).toBe(201);
    expect((await call('POST', '/api/models', await pcbAoiPackage(testCloud.dataDir, { signer: testCloud.publisher }))).status).toBe(201);
    expect((await call('POST', '/api/models/pcb-aoi/aliases/production', { version: 1, reason: 'the demo model serves the line' })).status).toBe(200);
    projectId = String((await call('POST', '/api/projects', { name: 'boards', modelName: 'pcb-aoi', task: 'classification', classes: ['Normal', 'Defective'] })).body.id);
    images = await boardImages();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await testCloud?.stop();
  });

  it('trains on the settled labels, judges the head and the serving model on one test split, and registers the candidate', async () => {
    const splits: Split[] = ['train', 'train', 'train', 'train', 'train', 'train', 'val', 'val', 'test', 'test'];
    await settle([...splits.map((split) => ({ className: 'Normal' as const, split })), ...splits.map((split) => ({ className: 'Defective' as const, split }))]);
    const run = await trained();
    expect(run).toMatchObject({ backbone: { model: 'squeezenet-features', version: 1 }, attempts: 1, features: { computed: 20, cached: 0 } });
    expect(run.dataset).toMatchObject({ labels: 20, train: 12, val: 4, test: 4 });
    expect(run.challenger).toMatchObject({ samples: 4, classes: ['Normal', 'Defective'] });
    expect(run.challenger!.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(run.champion).toMatchObject({ version: 1, samples: 4 });
    expect(run.candidateVersion).toBe(2);
    expect(run.decision).not.toBeNull();
    const candidate = await call('GET', '/api/models/pcb-aoi/versions/2');
    expect(candidate.status).toBe(200);
  });

  it('pays only for new samples on the next run: the rest of the features come from the cache', async () => {
    await settle([
      { className: 'Normal', split: 'train' },
      { className: 'Defective', split: 'train' },
      { className: 'Defective', split: 'test' },
    ]);
    const run = await trained();
    expect(run.features).toEqual({ computed: 3, cached: 20 });
    expect(run.dataset).toMatchObject({ labels: 23, train: 14, test: 5 });
  });
});

import { randomUUID } from 'node:crypto';
import { trainingRecipeSchema } from '@loupe/api-contracts';
import { eventually, startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudConfig } from '../config/cloud-config';
import { openDatabase, type Database } from '../database/database';
import { CloudMetrics } from '../metrics/cloud-metrics';
import { seedLabelingProject } from '../testing/labeling-fixture';
import type { PublishedCandidate } from './candidate-publisher';
import type { RunReporter } from './run-reporter';
import type { TrainingRun } from './training-run';
import { TrainingRunRepository } from './training-run.repository';
import { TrainingWorker } from './training-worker';

type Pipeline = (run: TrainingRun, reporter: RunReporter, signal: AbortSignal) => Promise<PublishedCandidate>;

const PUBLISHED: PublishedCandidate = { candidateVersion: 2, decision: 'awaiting-approval', rolloutId: null };

/** A pipeline that runs until its signal stops it, as a long training does. */
const untilStopped: Pipeline = (_run, _reporter, signal) =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

describe('TrainingWorker', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let runs: TrainingRunRepository;
  let projectId: string;
  let modelName: string;
  const workers: TrainingWorker[] = [];

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    runs = new TrainingRunRepository(database);
    ({ projectId, modelName } = await seedLabelingProject(database, { samples: 0, users: 0 }));
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  function startWorker(pipeline: Pipeline, training: Partial<CloudConfig['training']> = {}, metrics = new CloudMetrics()): TrainingWorker {
    const config = { training: { worker: true, pollMs: 100, leaseSeconds: 10, maxAttempts: 3, defaultBackbone: 'b', ...training } };
    const worker = new TrainingWorker(runs, { run: pipeline }, metrics, config, pino({ level: 'silent' }));
    workers.push(worker);
    worker.onApplicationBootstrap();
    return worker;
  }

  const queue = () =>
    runs.insert({ id: randomUUID(), projectId, modelName, trigger: 'manual', startedBy: 'engineer', authorId: randomUUID(), backbone: { model: 'b', version: 1 }, recipe: trainingRecipeSchema.parse({}) });

  const settled = (id: string, state: TrainingRun['state']) =>
    eventually(async () => {
      const run = (await runs.find(id))!;
      expect(run.state).toBe(state);
      return run;
    });

  it('trains a queued run and records the candidate the pipeline published', async () => {
    const reported: string[] = [];
    startWorker(async (run, reporter) => {
      reported.push(run.id);
      await reporter.progress('training', 1, 1);
      return PUBLISHED;
    });
    const run = await queue();
    const done = await settled(run.id, 'succeeded');
    expect(reported).toEqual([run.id]);
    expect(done).toMatchObject({ attempts: 1, progress: { phase: 'training', done: 1, total: 1 }, candidateVersion: 2, decision: 'awaiting-approval', error: null });
  });

  it('fails a run with the reason its pipeline gave, once: a failure is not a lost worker', async () => {
    const metrics = new CloudMetrics();
    startWorker(() => Promise.reject(new Error('not enough settled labels to train')), {}, metrics);
    const run = await queue();
    expect(await settled(run.id, 'failed')).toMatchObject({ attempts: 1, error: 'not enough settled labels to train' });
    expect((await metrics.trainingRuns.get()).values).toEqual([expect.objectContaining({ labels: { outcome: 'failed' }, value: 1 })]);
  });

  it('retries the run of a worker that died: its lease runs out and another worker finishes it as the next attempt', async () => {
    const run = await queue();
    // The dead worker claimed it with a one-second lease and was never heard from again.
    expect((await runs.claim('dead-worker', 1, 3))?.run.id).toBe(run.id);
    startWorker(() => Promise.resolve(PUBLISHED));
    expect(await settled(run.id, 'succeeded')).toMatchObject({ attempts: 2 });
  });

  it('renews the lease while a run lasts longer than it, so no other worker takes the run', async () => {
    const run = await queue();
    const trainedBy: string[] = [];
    const slow = (name: string): Pipeline => async () => {
      trainedBy.push(name);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      return PUBLISHED;
    };
    startWorker(slow('first'), { leaseSeconds: 1 });
    await eventually(() => expect(trainedBy).toEqual(['first']));
    startWorker(slow('second'), { leaseSeconds: 1 });
    expect(await settled(run.id, 'succeeded')).toMatchObject({ attempts: 1 });
    expect(trainedBy).toEqual(['first']);
  });

  it('stops a run cancelled while it trains, and writes nothing over the cancellation', async () => {
    const metrics = new CloudMetrics();
    startWorker(untilStopped, { leaseSeconds: 1 }, metrics);
    const run = await queue();
    await settled(run.id, 'running');
    await runs.cancel(run.id);
    await eventually(async () => expect((await metrics.trainingRuns.get()).values).toEqual([expect.objectContaining({ labels: { outcome: 'lost' }, value: 1 })]));
    expect(await runs.find(run.id)).toMatchObject({ state: 'cancelled', error: null });
  });

  it('hands the run in progress back to the queue at shutdown, without counting the attempt', async () => {
    const worker = startWorker(untilStopped);
    const run = await queue();
    await settled(run.id, 'running');
    await worker.stop();
    expect(await runs.find(run.id)).toMatchObject({ state: 'queued', attempts: 0 });
    startWorker(() => Promise.resolve(PUBLISHED));
    expect(await settled(run.id, 'succeeded')).toMatchObject({ attempts: 1 });
  });

  it('fails a run interrupted on its last attempt instead of claiming it again', async () => {
    const run = await queue();
    for (let attempt = 1; attempt <= 2; attempt++) {
      await runs.claim(`dead-${attempt}`, 0.2, 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    startWorker(() => Promise.resolve(PUBLISHED), { maxAttempts: 2 });
    const failed = await settled(run.id, 'failed');
    expect(failed.attempts).toBe(2);
    expect(failed.error).toMatch(/interrupted 2 times/);
  });
});

import { randomUUID } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { trainingRecipeSchema } from '@loupe/api-contracts';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { seedLabelingProject } from '../testing/labeling-fixture';
import type { RunLease } from './training-run';
import { TrainingRunRepository } from './training-run.repository';

const LEASE_SECONDS = 60;
const MAX_ATTEMPTS = 3;

describe('TrainingRunRepository', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let runs: TrainingRunRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    runs = new TrainingRunRepository(database);
    // Each test queues runs of its own project and claims them all, so no test takes another's.
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  async function queueRuns(count: number): Promise<string[]> {
    const { projectId, modelName } = await seedLabelingProject(database, { samples: 0, users: 0 });
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const run = await runs.insert({
        id: randomUUID(),
        projectId,
        modelName,
        trigger: 'manual',
        startedBy: 'engineer', authorId: randomUUID(),
        backbone: { model: 'squeezenet', version: 1 },
        recipe: trainingRecipeSchema.parse({}),
      });
      ids.push(run.id);
    }
    return ids;
  }

  const expireLease = (runId: string) =>
    database.db.updateTable('training_runs').set({ lease_expires_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', runId).execute();

  const claimAll = async (owner: string) => {
    const claimed: RunLease[] = [];
    for (let next = await runs.claim(owner, LEASE_SECONDS, MAX_ATTEMPTS); next; next = await runs.claim(owner, LEASE_SECONDS, MAX_ATTEMPTS)) claimed.push(next.lease);
    return claimed;
  };

  it('queues a run with its backbone and recipe, and reads it back', async () => {
    const [id] = await queueRuns(1);
    const run = (await runs.find(id!))!;
    expect(run).toMatchObject({ id, state: 'queued', trigger: 'manual', backbone: { model: 'squeezenet', version: 1 }, attempts: 0, progress: null, dataset: null, error: null });
    expect(run.recipe).toEqual(trainingRecipeSchema.parse({}));
    expect(await runs.ofProject(run.projectId, 10)).toEqual([run]);
  });

  it('claims each queued run once, counting the attempt', async () => {
    const ids = await queueRuns(3);
    const claimed = await claimAll('worker-a');
    const ours = claimed.filter((lease) => ids.includes(lease.runId));
    expect(ours.map((lease) => lease.runId).sort()).toEqual([...ids].sort());
    expect(ours.every((lease) => lease.attempt === 1 && lease.owner === 'worker-a')).toBe(true);
    const run = (await runs.find(ids[0]!))!;
    expect(run.state).toBe('running');
    expect(run.startedAt).toBeInstanceOf(Date);
  });

  it('writes findings, heartbeats and finishes only under the live lease', async () => {
    const [id] = await queueRuns(1);
    await claimAll('worker-a');
    const lease: RunLease = { runId: id!, owner: 'worker-a', attempt: 1 };
    const stranger: RunLease = { ...lease, owner: 'worker-b' };
    expect(await runs.record(lease, { progress: { phase: 'features', done: 3, total: 10 }, features: { computed: 2, cached: 1 } }, LEASE_SECONDS)).toBe(true);
    expect(await runs.heartbeat(stranger, LEASE_SECONDS)).toBe(false);
    expect(await runs.finish(stranger, { state: 'failed', error: 'not mine' })).toBe(false);
    expect(await runs.finish(lease, { state: 'succeeded', candidateVersion: 4, decision: 'awaiting-approval', rolloutId: null })).toBe(true);
    const run = (await runs.find(id!))!;
    expect(run).toMatchObject({ state: 'succeeded', progress: { phase: 'features', done: 3, total: 10 }, features: { computed: 2, cached: 1 }, candidateVersion: 4, decision: 'awaiting-approval', error: null });
    expect(run.finishedAt).toBeInstanceOf(Date);
    expect(await runs.heartbeat(lease, LEASE_SECONDS)).toBe(false);
  });

  it('retries a run whose worker died: the expired lease is claimed again as the next attempt, and the dead worker writes nothing', async () => {
    const [id] = await queueRuns(1);
    await claimAll('worker-a');
    const dead: RunLease = { runId: id!, owner: 'worker-a', attempt: 1 };
    expect(await runs.claim('worker-b', LEASE_SECONDS, MAX_ATTEMPTS).then((next) => next?.lease.runId === id)).toBe(false);
    await expireLease(id!);
    const retried = (await claimAll('worker-b')).find((lease) => lease.runId === id);
    expect(retried).toEqual({ runId: id, owner: 'worker-b', attempt: 2 });
    expect(await runs.record(dead, { progress: { phase: 'training', done: 0, total: 1 } }, LEASE_SECONDS)).toBe(false);
    expect(await runs.finish(dead, { state: 'failed', error: 'stale' })).toBe(false);
    expect(await runs.find(id!)).toMatchObject({ state: 'running', attempts: 2, error: null });
  });

  it('gives up on a run interrupted on its last attempt, with an error that says why', async () => {
    const [id] = await queueRuns(1);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect((await claimAll(`worker-${attempt}`)).find((lease) => lease.runId === id)?.attempt).toBe(attempt);
      await expireLease(id!);
    }
    expect((await claimAll('worker-late')).some((lease) => lease.runId === id)).toBe(false);
    const failed = await runs.failAbandoned(MAX_ATTEMPTS);
    expect(failed.map((run) => run.id)).toContain(id);
    const run = (await runs.find(id!))!;
    expect(run).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
    expect(run.error).toMatch(/interrupted 3 times/);
  });

  it('hands a run back on shutdown without counting the attempt', async () => {
    const [id] = await queueRuns(1);
    await claimAll('worker-a');
    expect(await runs.release({ runId: id!, owner: 'worker-a', attempt: 1 })).toBe(true);
    expect(await runs.find(id!)).toMatchObject({ state: 'queued', attempts: 0, progress: null });
    expect((await claimAll('worker-b')).find((lease) => lease.runId === id)).toEqual({ runId: id, owner: 'worker-b', attempt: 1 });
  });

  it('cancels queued and running runs; the running one loses its lease; a finished one is left', async () => {
    const ids = await queueRuns(2);
    const { lease } = (await runs.claim('worker-a', LEASE_SECONDS, MAX_ATTEMPTS))!;
    const queued = ids.find((id) => id !== lease.runId)!;
    expect(await runs.cancel(lease.runId)).toMatchObject({ state: 'cancelled' });
    expect(await runs.cancel(queued)).toMatchObject({ state: 'cancelled' });
    expect(await runs.heartbeat(lease, LEASE_SECONDS)).toBe(false);
    expect(await runs.finish(lease, { state: 'succeeded', candidateVersion: null, decision: null, rolloutId: null })).toBe(false);
    expect(await runs.cancel(queued)).toBeUndefined();
    expect(await runs.cancel(randomUUID())).toBeUndefined();
  });
});

describe('TrainingRunRepository claimed by several workers at once', () => {
  let testDatabase: TestDatabase;
  const replicas: Database[] = [];

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    for (let i = 0; i < 4; i++) {
      replicas.push(await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: i === 0 }, pino({ level: 'silent' })));
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await testDatabase?.stop();
  });

  it('never gives one run to two workers', async () => {
    const [first] = replicas as [Database];
    const { projectId, modelName } = await seedLabelingProject(first, { samples: 0, users: 0 });
    const repository = new TrainingRunRepository(first);
    const ids = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const run = await repository.insert({ id: randomUUID(), projectId, modelName, trigger: 'manual', startedBy: 'e', authorId: randomUUID(), backbone: { model: 'b', version: 1 }, recipe: trainingRecipeSchema.parse({}) });
      ids.add(run.id);
    }
    // Each replica runs three workers, all claiming as fast as they can.
    const workers = replicas.flatMap((replica, r) => [0, 1, 2].map((w) => ({ owner: `replica-${r}/worker-${w}`, runs: new TrainingRunRepository(replica) })));
    const claims = await Promise.all(
      workers.map(async ({ owner, runs }) => {
        const mine: string[] = [];
        for (let next = await runs.claim(owner, LEASE_SECONDS, MAX_ATTEMPTS); next; next = await runs.claim(owner, LEASE_SECONDS, MAX_ATTEMPTS)) mine.push(next.run.id);
        return mine;
      }),
    );
    const all = claims.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(ids);
  });
});

describe('TrainingRunRepository queueing for triggers', () => {
  let testDatabase: TestDatabase;
  const replicas: Database[] = [];

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    for (let i = 0; i < 3; i++) {
      replicas.push(await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: i === 0 }, pino({ level: 'silent' })));
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await testDatabase?.stop();
  });

  it('queues one run per project however many triggers fire at once, and another once it has ended', async () => {
    const [first] = replicas as [Database];
    const { projectId, modelName } = await seedLabelingProject(first, { samples: 0, users: 0 });
    const newRun = () => ({ id: randomUUID(), projectId, modelName, trigger: 'new-labels' as const, startedBy: 'policy', authorId: randomUUID(), backbone: { model: 'b', version: 1 }, recipe: trainingRecipeSchema.parse({}) });
    const queued = await Promise.all(replicas.flatMap((replica) => [0, 1].map(() => new TrainingRunRepository(replica).insertUnlessBusy(newRun()))));
    expect(queued.filter((run) => run !== undefined)).toHaveLength(1);
    const runs = new TrainingRunRepository(first);
    const { lease } = (await runs.claim('worker', LEASE_SECONDS, MAX_ATTEMPTS))!;
    expect(await runs.insertUnlessBusy(newRun())).toBeUndefined();
    await runs.finish(lease, { state: 'failed', error: 'done with it' });
    expect(await runs.insertUnlessBusy(newRun())).toMatchObject({ state: 'queued', trigger: 'new-labels', startedBy: 'policy' });
  });
});

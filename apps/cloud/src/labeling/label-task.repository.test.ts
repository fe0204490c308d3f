import { randomUUID } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { seedLabelingProject } from '../testing/labeling-fixture';
import { LabelTaskRepository } from './label-task.repository';

describe('LabelTaskRepository on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let tasks: LabelTaskRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    tasks = new LabelTaskRepository(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const stateOf = async (sampleId: string) =>
    (await database.db.selectFrom('label_tasks').select(['state', 'lease_holder']).where('sample_id', '=', sampleId).executeTakeFirst()) ?? null;

  it('queues samples in the project that takes their model, once, and ignores models no project takes', async () => {
    const { projectId, modelName, sampleIds } = await seedLabelingProject(database, { samples: 2, users: 0, queued: false });
    const [first, second] = sampleIds as [string, string];
    await tasks.enqueue([{ sampleId: first, modelName, priority: 0.25 }]);
    await tasks.enqueue([
      { sampleId: first, modelName, priority: 0.9 },
      { sampleId: second, modelName: 'nobody-labels-this', priority: 0.5 },
    ]);
    const queued = await database.db.selectFrom('label_tasks').select(['sample_id', 'project_id', 'priority']).where('sample_id', 'in', sampleIds).execute();
    expect(queued).toEqual([{ sample_id: first, project_id: projectId, priority: 0.25 }]);
    expect(await tasks.count(projectId, ['open', 'leased'])).toBe(1);
  });

  it('claims open tasks best first, each once, and none a labeler answered or skipped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 }), async (count, skippedIndex) => {
        const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: count, users: 2 });
        const [labeler, other] = userIds as [string, string];
        const skipped = sampleIds[skippedIndex];
        if (skipped) await database.db.insertInto('label_skips').values({ sample_id: skipped, labeler_id: labeler }).execute();
        const claimed: string[] = [];
        for (let row = await tasks.claim(projectId, labeler, 60); row; row = await tasks.claim(projectId, labeler, 60)) claimed.push(row.sample_id);
        expect(claimed).toEqual([...sampleIds].reverse().filter((id) => id !== skipped));
        expect(await tasks.hasClaimable(projectId, labeler)).toBe(false);
        expect(await tasks.hasClaimable(projectId, other)).toBe(skipped !== undefined);
      }),
      { numRuns: 8 },
    );
  });

  it('returns the claimed sample, a fenced token, the lease end and the answers given today', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 1, users: 1 });
    const before = Date.now();
    const row = (await tasks.claim(projectId, userIds[0]!, 30))!;
    expect(row).toMatchObject({ sample_id: sampleIds[0], token: '1', image_key: `samples/${sampleIds[0]}`, station_id: 'line-1', model_version: '1', verdict: 'reject', reason: 'margin', answered_today: 0 });
    expect(row.prediction).toEqual({ scores: [] });
    expect(row.lease_expires_at!.getTime()).toBeGreaterThan(before + 25_000);
    expect(await stateOf(sampleIds[0]!)).toEqual({ state: 'leased', lease_holder: userIds[0] });
  });

  it('extends, releases and skips only under the live lease with its current token', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 2, users: 2 });
    const [labeler, stranger] = userIds as [string, string];
    const row = (await tasks.claim(projectId, labeler, 30))!;
    const holder = { sampleId: row.sample_id, labelerId: labeler, token: row.token };
    expect(await tasks.heartbeat('leased', { ...holder, token: '99' }, 60)).toBeUndefined();
    expect(await tasks.heartbeat('leased', { ...holder, labelerId: stranger }, 60)).toBeUndefined();
    expect(await tasks.heartbeat('reviewing', holder, 60)).toBeUndefined();
    expect((await tasks.heartbeat('leased', holder, 60))!.getTime()).toBeGreaterThan(row.lease_expires_at!.getTime());
    expect(await tasks.release('leased', { ...holder, token: '0' })).toBe(false);
    expect(await tasks.release('leased', holder)).toBe(true);
    expect(await tasks.release('leased', holder)).toBe(false);
    expect(await stateOf(row.sample_id)).toEqual({ state: 'open', lease_holder: null });

    const again = (await tasks.claim(projectId, labeler, 30))!;
    expect(again.sample_id).toBe(sampleIds[1]);
    expect(await tasks.skip({ sampleId: again.sample_id, labelerId: labeler, token: row.token })).toBe(false);
    expect(await tasks.skip({ sampleId: again.sample_id, labelerId: labeler, token: again.token })).toBe(true);
    const skips = await database.db.selectFrom('label_skips').select('labeler_id').where('sample_id', '=', again.sample_id).execute();
    expect(skips).toEqual([{ labeler_id: labeler }]);
    expect((await tasks.claim(projectId, labeler, 30))?.sample_id).toBe(sampleIds[0]);
  });

  it('puts tasks whose lease ran out back where they were claimed from, and counts tasks not done', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 3, users: 1 });
    const [low, , high] = sampleIds as [string, string, string];
    await database.db.updateTable('label_tasks').set({ state: 'review' }).where('sample_id', '=', low).execute();
    await tasks.claim(projectId, userIds[0]!, 60);
    await database.db
      .updateTable('label_tasks')
      .set({ state: 'reviewing', lease_holder: userIds[0]!, lease_expires_at: new Date(Date.now() - 1_000) })
      .where('sample_id', '=', low)
      .execute();
    const byState = async () =>
      (await tasks.notDone()).filter((row) => row.project === `project-${projectId}`).sort((a, b) => a.state.localeCompare(b.state));
    expect(await byState()).toEqual([
      { project: `project-${projectId}`, state: 'leased', n: 1 },
      { project: `project-${projectId}`, state: 'open', n: 1 },
      { project: `project-${projectId}`, state: 'reviewing', n: 1 },
    ]);
    await database.db.updateTable('label_tasks').set({ lease_expires_at: new Date(Date.now() - 1_000) }).where('sample_id', '=', high).execute();
    await tasks.returnExpired(projectId);
    expect(await stateOf(high)).toEqual({ state: 'open', lease_holder: null });
    expect(await stateOf(low)).toEqual({ state: 'review', lease_holder: null });
    expect(await tasks.count(projectId, ['open', 'leased'])).toBe(2);
    expect(await tasks.count(projectId, ['review', 'reviewing'])).toBe(1);
    expect(await tasks.count(randomUUID(), ['open'])).toBe(0);
  });
});

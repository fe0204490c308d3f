import { randomUUID } from 'node:crypto';
import { trainingPolicySchema, type TrainingPolicyDto } from '@loupe/api-contracts';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { seedLabelingProject, type LabelingFixture } from '../testing/labeling-fixture';
import { TrainingPolicyRepository } from './training-policy.repository';
import { TrainingRunQueue, TrainingTriggers } from './training-triggers';
import type { DueTrigger, LatestRun } from './trigger-planner';

/**
 * The runs' queue as the triggers see it, keeping what it was asked. It has
 * no guard of its own on purpose: the triggers' claim alone must keep
 * replicas from starting the same run twice.
 */
class RecordingQueue extends TrainingRunQueue {
  readonly runs: (LatestRun & { id: string; projectId: string; trigger: DueTrigger; requestedBy: string })[] = [];

  latestRun(projectId: string): Promise<LatestRun | undefined> {
    return Promise.resolve(this.runs.filter((run) => run.projectId === projectId).at(-1));
  }

  enqueue(run: { projectId: string; trigger: DueTrigger; requestedBy: string }): Promise<{ id: string }> {
    const id = randomUUID();
    this.runs.push({ ...run, id, state: 'queued', createdAt: new Date(), datasetLabels: null });
    return Promise.resolve({ id });
  }
}

describe('TrainingTriggers on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const silent = pino({ level: 'silent' });

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 8, migrate: true }, silent);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const project = async (policy: Partial<TrainingPolicyDto>) => {
    const fixture = await seedLabelingProject(database, { samples: 30, users: 1 });
    await new TrainingPolicyRepository(database.db).put(fixture.projectId, trainingPolicySchema.parse(policy), fixture.userIds[0]!);
    return fixture;
  };
  /** Settles the project's first `count` samples, as answers that reached consensus do. */
  const settle = (fixture: LabelingFixture, count: number) =>
    database.db.updateTable('label_tasks').set({ state: 'done' }).where('sample_id', 'in', fixture.sampleIds.slice(0, count)).execute();
  const triggers = (queue: TrainingRunQueue) => new TrainingTriggers(new TrainingPolicyRepository(database.db), queue, silent);
  const runsOf = (queue: RecordingQueue, fixture: LabelingFixture) => queue.runs.filter((run) => run.projectId === fixture.projectId);

  it('starts a run after every N newly settled labels, on behalf of who set the policy, never beside a queued one', async () => {
    const fixture = await project({ everyNewLabels: 5 });
    const queue = new RecordingQueue();
    const replica = triggers(queue);

    await settle(fixture, 4);
    await replica.check();
    expect(runsOf(queue, fixture)).toEqual([]);

    await settle(fixture, 5);
    await replica.check();
    expect(runsOf(queue, fixture)).toEqual([expect.objectContaining({ trigger: 'new-labels', requestedBy: fixture.userIds[0], state: 'queued' })]);

    await settle(fixture, 12);
    await replica.check();
    expect(runsOf(queue, fixture)).toHaveLength(1);

    // The run froze 12 labels and finished: the next one waits for 5 more.
    Object.assign(queue.runs.at(-1)!, { state: 'succeeded', datasetLabels: 12 });
    await settle(fixture, 16);
    await replica.check();
    expect(runsOf(queue, fixture)).toHaveLength(1);
    await settle(fixture, 17);
    await replica.check();
    expect(runsOf(queue, fixture).map((run) => run.trigger)).toEqual(['new-labels', 'new-labels']);
  });

  it('starts exactly one run when several replicas find the project due at once', async () => {
    const fixture = await project({ everyNewLabels: 3 });
    await settle(fixture, 10);
    const queue = new RecordingQueue();

    const started = await Promise.all(Array.from({ length: 8 }, () => triggers(queue).check()));

    expect(started.flat().filter((run) => run.projectId === fixture.projectId)).toHaveLength(1);
    expect(runsOf(queue, fixture)).toHaveLength(1);
  });

  it('starts a run on its schedule only when labels changed since the last one', async () => {
    const fixture = await project({ everyHours: 1 });
    const queue = new RecordingQueue();
    const replica = triggers(queue);
    await settle(fixture, 2);
    await replica.check();
    expect(runsOf(queue, fixture).map((run) => run.trigger)).toEqual(['schedule']);
    Object.assign(queue.runs.at(-1)!, { state: 'succeeded', datasetLabels: 2, createdAt: new Date(Date.now() - 2 * 3_600_000) });
    const hoursAgo = sql<Date>`now() - interval '2 hours'`;
    await database.db.updateTable('training_policies').set({ triggered_at: hoursAgo }).where('project_id', '=', fixture.projectId).execute();

    await replica.check();
    expect(runsOf(queue, fixture)).toHaveLength(1);
    await settle(fixture, 3);
    await replica.check();
    expect(runsOf(queue, fixture).map((run) => run.trigger)).toEqual(['schedule', 'schedule']);
  });
});

import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { seedLabelingProject } from '../testing/labeling-fixture';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { ReviewRepository } from './review.repository';

describe('ReviewRepository on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let tasks: LabelTaskRepository;
  let answers: LabelAnswerRepository;
  let reviews: ReviewRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    tasks = new LabelTaskRepository(database);
    answers = new LabelAnswerRepository(database);
    reviews = new ReviewRepository(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  /** A project whose one sample two labelers disagreed on, and a reviewer. */
  async function disagreement() {
    const fixture = await seedLabelingProject(database, { samples: 1, users: 3, consensus: 2 });
    const [first, second] = fixture.userIds as [string, string];
    for (const [labelerId, key] of [
      [first, 'ok'],
      [second, 'scratch'],
    ] as const) {
      const row = (await tasks.claim(fixture.projectId, labelerId, 60))!;
      await answers.record([{ holder: { sampleId: row.sample_id, labelerId, token: row.token }, key, value: { className: key }, spentMs: 500 }]);
    }
    return { ...fixture, reviewerId: fixture.userIds[2]! };
  }

  it('leases a disagreement to one reviewer with the answers given, in the order given', async () => {
    const { projectId, sampleIds, reviewerId } = await disagreement();
    const claimed = (await reviews.claim(projectId, reviewerId, 60))!;
    expect(claimed.sample_id).toBe(sampleIds[0]);
    expect(claimed.answers).toEqual([
      { labeler: 'labeler-0', answer: { className: 'ok' }, spentMs: 500 },
      { labeler: 'labeler-1', answer: { className: 'scratch' }, spentMs: 500 },
    ]);
    expect(await reviews.claim(projectId, reviewerId, 60)).toBeUndefined();
    expect(await tasks.count(projectId, ['review', 'reviewing'])).toBe(1);
  });

  it("records the decision and settles the task under the reviewer's live lease only", async () => {
    const { projectId, sampleIds, reviewerId } = await disagreement();
    const claimed = (await reviews.claim(projectId, reviewerId, 60))!;
    const holder = { sampleId: claimed.sample_id, labelerId: reviewerId, token: claimed.token };
    expect(await reviews.decide({ ...holder, token: '0' }, { key: 'ok', value: { className: 'ok' } })).toBeUndefined();
    expect(await reviews.decide(holder, { key: 'scratch', value: { className: 'scratch' } })).toBe(projectId);
    expect(await reviews.decide(holder, { key: 'ok', value: { className: 'ok' } })).toBeUndefined();
    const review = await database.db.selectFrom('reviews').select(['reviewer_id', 'answer_key', 'answer', 'project_id']).where('sample_id', '=', sampleIds[0]!).execute();
    expect(review).toEqual([{ reviewer_id: reviewerId, answer_key: 'scratch', answer: { className: 'scratch' }, project_id: projectId }]);
    expect(await tasks.count(projectId, ['done'])).toBe(1);
  });
});

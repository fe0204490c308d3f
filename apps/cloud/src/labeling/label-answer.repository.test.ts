import { randomUUID } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { seedLabelingProject } from '../testing/labeling-fixture';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';

describe('LabelAnswerRepository on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let tasks: LabelTaskRepository;
  let answers: LabelAnswerRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    tasks = new LabelTaskRepository(database);
    answers = new LabelAnswerRepository(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  /** Claims the labeler's best task and returns its lease holder. */
  const claim = async (projectId: string, labelerId: string) => {
    const row = (await tasks.claim(projectId, labelerId, 60))!;
    return { sampleId: row.sample_id, labelerId, token: row.token };
  };
  const answer = (key: string) => ({ key, value: { className: key }, spentMs: 812.6 });

  it('records answers under live leases, settles on K agreeing answers, and sends a disagreement to review', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 2, users: 3, consensus: 2 });
    const [a, b, c] = userIds as [string, string, string];
    const [low, high] = sampleIds as [string, string];
    const byA = await claim(projectId, a);
    const stale = { ...byA, token: '0' };
    expect(await answers.record([{ holder: stale, ...answer('ok') }, { holder: byA, ...answer('ok') }])).toEqual([{ position: '2', state: 'open', project_id: projectId }]);
    const byB = await claim(projectId, b);
    const secondByA = await claim(projectId, a);
    expect([byB.sampleId, secondByA.sampleId]).toEqual([high, low]);
    const settled = await answers.record([{ holder: byB, ...answer('ok') }, { holder: secondByA, ...answer('scratch') }]);
    expect(settled.sort((x, y) => x.position.localeCompare(y.position))).toEqual([
      { position: '1', state: 'done', project_id: projectId },
      { position: '2', state: 'open', project_id: projectId },
    ]);
    expect(await answers.record([{ holder: await claim(projectId, c), ...answer('ok') }])).toEqual([{ position: '1', state: 'review', project_id: projectId }]);
    const label = await database.db.selectFrom('labels').select(['answer_key', 'answer', 'spent_ms']).where('sample_id', '=', high).where('labeler_id', '=', a).executeTakeFirst();
    expect(label).toEqual({ answer_key: 'ok', answer: { className: 'ok' }, spent_ms: 813 });
    expect(await answers.answeredToday(a)).toBe(2);
    expect(await answers.answeredTodayIn(projectId, a)).toBe(2);
    expect(await answers.answeredTodayIn(randomUUID(), a)).toBe(0);
    const counts = (await answers.countsByModelAndAnswer()).filter((row) => row.model_name === `model-${projectId}`);
    expect(counts.sort((x, y) => x.answer_key.localeCompare(y.answer_key))).toEqual([
      { model_name: `model-${projectId}`, answer_key: 'ok', n: 3 },
      { model_name: `model-${projectId}`, answer_key: 'scratch', n: 1 },
    ]);
  });

  it('offers open tasks best first with who passed them by, and leases them pairwise in one transaction', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 3, users: 2, consensus: 2 });
    const [a, b] = userIds as [string, string];
    const [s1, s2, s3] = sampleIds as [string, string, string];
    await answers.record([{ holder: await claim(projectId, a), ...answer('ok') }]);
    await database.db.insertInto('label_skips').values({ sample_id: s2, labeler_id: b }).execute();
    const leased = await answers.inTransaction(async (inTransaction) => {
      const offered = await inTransaction.offerable(projectId, [a, b], 4);
      expect(offered).toEqual([
        { sample_id: s3, passed_by: [a] },
        { sample_id: s2, passed_by: [b] },
        { sample_id: s1, passed_by: [] },
      ]);
      return inTransaction.lease([
        { sampleId: s3, labelerId: b },
        { sampleId: s2, labelerId: a },
      ], 60);
    });
    expect(leased.map((row) => ({ sample: row.sample_id, token: row.token, today: row.answered_today })).sort((x, y) => x.sample.localeCompare(y.sample))).toEqual(
      [
        { sample: s3, token: '2', today: 0 },
        { sample: s2, token: '1', today: 1 },
      ].sort((x, y) => x.sample.localeCompare(y.sample)),
    );
    expect(await answers.offerable(projectId, [a], 4)).toEqual([{ sample_id: s1, passed_by: [] }]);
  });

  it('rolls back every statement of a transaction whose work fails', async () => {
    const { projectId, userIds } = await seedLabelingProject(database, { samples: 1, users: 1 });
    const holder = await claim(projectId, userIds[0]!);
    const failure = new Error('later statement failed');
    await expect(
      answers.inTransaction(async (inTransaction) => {
        await inTransaction.record([{ holder, ...answer('ok') }]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await answers.submission(holder)).toEqual({ held: true, answered: false });
  });

  it('takes an answer back and leases the sample again, only while recent, unreviewed and unheld, and says where it stands', async () => {
    const { projectId, sampleIds, userIds } = await seedLabelingProject(database, { samples: 2, users: 2, consensus: 2 });
    const [a, b] = userIds as [string, string];
    const high = sampleIds[1]!;
    const holder = await claim(projectId, a);
    await answers.record([{ holder, ...answer('ok') }]);
    expect(await answers.submission(holder)).toEqual({ held: false, answered: true });
    expect(await answers.answerStanding(a, high, 60)).toEqual({ recent: true, state: 'open', reviewed: false });
    expect(await answers.answerStanding(b, high, 60)).toBeUndefined();

    const undone = (await answers.undo(a, high, 60))!;
    expect({ sample: undone.sample_id, token: undone.token, today: undone.answered_today }).toEqual({ sample: high, token: '2', today: 0 });
    expect(await answers.answeredToday(a)).toBe(0);
    expect(await answers.submission({ ...holder, token: undone.token })).toEqual({ held: true, answered: false });
    expect(await answers.undo(a, high, 60)).toBeUndefined();

    const again = { ...holder, token: undone.token };
    await answers.record([{ holder: again, ...answer('ok') }]);
    await claim(projectId, b);
    // b holds the sample now: a's answer stays.
    expect(await answers.undo(a, high, 60)).toBeUndefined();
    expect(await answers.answerStanding(a, high, 60)).toEqual({ recent: true, state: 'leased', reviewed: false });
    expect(await answers.answerStanding(a, high, 0)).toMatchObject({ recent: false });
  });
});

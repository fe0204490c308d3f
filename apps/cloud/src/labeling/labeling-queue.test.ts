import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { recordAnswersAndClaim } from './answer-commit';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { LabelingQueue, LeaseLostError, NoAnswerToUndoError, UndoRefusedError, type ClaimedSample } from './labeling-queue';
import { registerLabelingQueueGauge } from './labeling-queue-gauge';
import { ReviewQueue } from './review-queue';
import { enqueueFixture, seedLabelingProject } from '../testing/labeling-fixture';
import { ReviewRepository } from './review.repository';

const LEASE_SECONDS = 1;

describe('LabelingQueue on Postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let queue: LabelingQueue;
  let reviews: ReviewQueue;
  let tasks: LabelTaskRepository;
  let answers: LabelAnswerRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    tasks = new LabelTaskRepository(database);
    answers = new LabelAnswerRepository(database);
    queue = new LabelingQueue(tasks, answers, { leaseSeconds: LEASE_SECONDS });
    reviews = new ReviewQueue(new ReviewRepository(database), tasks, { leaseSeconds: LEASE_SECONDS });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const sql = <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) =>
    database.pool.query<T>(text, values).then((result) => result.rows);

  /** A project of its own model, with `count` samples of priorities 0..1 queued through the queue, and `labelers` users. */
  async function project({ samples: count, labelers: people, consensus = 1 }: { samples: number; labelers: number; consensus?: number }) {
    const fixture = await seedLabelingProject(database, { samples: count, users: people, consensus, queued: false });
    await enqueueFixture(queue, fixture);
    return { id: fixture.projectId, modelName: fixture.modelName, samples: fixture.sampleIds.map((id) => ({ id })), labelers: fixture.userIds };
  }

  const claimNext = async (projectId: string, labelerId: string) => (await queue.claim(projectId, labelerId)).sample;
  const holder = (claim: ClaimedSample, labelerId: string) => ({ sampleId: claim.sampleId, labelerId, token: claim.token });
  const answer = (key: string) => ({ key, value: { class: key }, spentMs: 900 });

  it('hands out the most useful sample first, each to one labeler at a time, and nothing when empty', async () => {
    const { id, samples, labelers } = await project({ samples: 3, labelers: 4 });
    const [a, b, c, d] = labelers as [string, string, string, string];
    const claims = [await claimNext(id, a), await claimNext(id, b), await claimNext(id, c)];
    expect(claims.map((claim) => claim?.sampleId)).toEqual([...samples].reverse().map((s) => s.id));
    expect(await claimNext(id, d)).toBeUndefined();
    expect(await queue.depth(id)).toBe(3);
  });

  it('reports the tasks not yet done per project and state to Prometheus, at scrape time', async () => {
    const { id, labelers } = await project({ samples: 3, labelers: 1 });
    const registry = new Registry();
    registerLabelingQueueGauge(registry, tasks);
    const scraped = async () =>
      (await registry.getSingleMetricAsString('loupe_cloud_labeling_queue_tasks')).split('\n').filter((line) => line.includes(`project="project-${id}"`));
    expect(await scraped()).toEqual([`loupe_cloud_labeling_queue_tasks{project="project-${id}",state="open"} 3`]);
    const claimed = (await claimNext(id, labelers[0]!))!;
    expect((await scraped()).sort()).toEqual([
      `loupe_cloud_labeling_queue_tasks{project="project-${id}",state="leased"} 1`,
      `loupe_cloud_labeling_queue_tasks{project="project-${id}",state="open"} 2`,
    ]);
    await queue.submit(holder(claimed, labelers[0]!), answer('ok'));
    expect(await scraped()).toEqual([`loupe_cloud_labeling_queue_tasks{project="project-${id}",state="open"} 2`]);
  });

  it('ignores samples of models no project takes, and queues a sample once however often it comes', async () => {
    const { id, modelName, samples } = await project({ samples: 1, labelers: 1 });
    await queue.enqueue([{ id: samples[0]!.id, modelName, predictedClass: 'ok', samplerPriority: 0, reason: 'margin' }]);
    await queue.enqueue([{ id: samples[0]!.id, modelName: 'nobody-labels-this', predictedClass: 'ok', samplerPriority: 1, reason: 'margin' }]);
    expect(await sql('SELECT project_id FROM label_tasks WHERE sample_id = $1', [samples[0]!.id])).toEqual([{ project_id: id }]);
  });

  it('returns a sample whose lease ran out, extends a lease on heartbeat, and rejects a stale submit', async () => {
    const { id, labelers } = await project({ samples: 2, labelers: 2 });
    const [slow, quick] = labelers as [string, string];
    const kept = (await claimNext(id, slow))!;
    const abandoned = (await claimNext(id, slow))!;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const extended = await queue.heartbeat(holder(kept, slow));
    expect(extended.getTime()).toBeGreaterThan(kept.expiresAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The abandoned lease has run out; the heartbeat kept the other one.
    const reclaimed = (await claimNext(id, quick))!;
    expect(reclaimed.sampleId).toBe(abandoned.sampleId);
    expect(BigInt(reclaimed.token)).toBeGreaterThan(BigInt(abandoned.token));
    await expect(queue.submit(holder(abandoned, slow), answer('ok'))).rejects.toThrow(LeaseLostError);
    await expect(queue.heartbeat(holder(abandoned, slow))).rejects.toThrow(LeaseLostError);
    expect(await queue.submit(holder(reclaimed, quick), answer('scratch'))).toBe('done');
    expect(await queue.submit(holder(kept, slow), answer('ok'))).toBe('done');
    expect(await queue.depth(id)).toBe(0);
  });

  it('needs K agreeing answers from different labelers, and sends a disagreement to review', async () => {
    const { id, samples, labelers } = await project({ samples: 2, labelers: 3, consensus: 2 });
    const [first, second, third] = labelers as [string, string, string];
    const agreed = (await claimNext(id, first))!;
    expect(await queue.submit(holder(agreed, first), answer('scratch'))).toBe('open');
    // The first labeler is never offered the sample they answered.
    const other = (await claimNext(id, first))!;
    expect(other.sampleId).not.toBe(agreed.sampleId);
    const again = (await claimNext(id, second))!;
    expect(again.sampleId).toBe(agreed.sampleId);
    expect(await queue.submit(holder(again, second), answer('scratch'))).toBe('done');

    expect(await queue.submit(holder(other, first), answer('ok'))).toBe('open');
    const disputed = (await claimNext(id, third))!;
    expect(await queue.submit(holder(disputed, third), answer('scratch'))).toBe('review');
    const states = await sql<{ id: string; state: string }>(
      'SELECT sample_id AS id, state FROM label_tasks WHERE project_id = $1 ORDER BY priority DESC',
      [id],
    );
    expect(states).toEqual([
      { id: samples[1]!.id, state: 'done' },
      { id: samples[0]!.id, state: 'review' },
    ]);
  });

  it('does not offer a skipped sample to the labeler who skipped it, and offers a released one to anyone', async () => {
    const { id, samples, labelers } = await project({ samples: 1, labelers: 2 });
    const [skipper, other] = labelers as [string, string];
    const skipped = (await claimNext(id, skipper))!;
    await queue.skip(holder(skipped, skipper));
    expect(await claimNext(id, skipper)).toBeUndefined();
    const released = (await claimNext(id, other))!;
    expect(released.sampleId).toBe(samples[0]!.id);
    await queue.release(holder(released, other));
    await expect(queue.release(holder(released, other))).rejects.toThrow(LeaseLostError);
    expect((await claimNext(id, other))?.sampleId).toBe(samples[0]!.id);
  });

  it('answers and claims the next sample in one call, counting the answers given today', async () => {
    const { id, samples, labelers } = await project({ samples: 2, labelers: 1 });
    const [labeler] = labelers as [string];
    const first = await queue.claim(id, labeler);
    expect(first.answeredToday).toBe(0);
    const { state, projectId, next } = await queue.submitAndClaim(holder(first.sample!, labeler), answer('ok'));
    expect({ state, projectId, next: next.sample?.sampleId, answeredToday: next.answeredToday }).toEqual({
      state: 'done',
      projectId: id,
      next: samples[0]!.id,
      answeredToday: 1,
    });
    const last = await queue.submitAndClaim(holder(next.sample!, labeler), answer('ok'));
    expect(last.next).toEqual({ sample: undefined, answeredToday: 2 });
  });

  it('records a group of answers together and hands each labeler the best sample they have not answered, none twice', async () => {
    const { id, samples, labelers } = await project({ samples: 6, labelers: 2, consensus: 2 });
    const [a, b] = labelers as [string, string];
    const [s3, s4, s5, s6] = samples.slice(2).map((sample) => sample.id);
    // s6, the best, has a's answer and waits for a second one; a holds s5 and b holds s4.
    expect(await queue.submit(holder((await claimNext(id, a))!, a), answer('ok'))).toBe('open');
    const heldByA = (await claimNext(id, a))!;
    const releasedByB = (await claimNext(id, b))!;
    const heldByB = (await claimNext(id, b))!;
    await queue.release(holder(releasedByB, b));
    expect([releasedByB.sampleId, heldByA.sampleId, heldByB.sampleId]).toEqual([s6, s5, s4]);

    const [byA, byB] = await recordAnswersAndClaim(
      answers,
      [
        { holder: holder(heldByA, a), answer: answer('ok'), claimNext: true },
        { holder: holder(heldByB, b), answer: answer('ok'), claimNext: true },
      ],
      LEASE_SECONDS,
    );
    // a answered s6 and s5; s4 now waits for its second answer and is a's best.
    expect({ state: byA?.state, next: byA?.next?.sample.sampleId, answeredToday: byA?.next?.answeredToday }).toEqual({
      state: 'open',
      next: s4,
      answeredToday: 2,
    });
    expect({ state: byB?.state, next: byB?.next?.sample.sampleId, answeredToday: byB?.next?.answeredToday }).toEqual({
      state: 'open',
      next: s6,
      answeredToday: 1,
    });
    expect(await sql('SELECT sample_id, state, answers FROM label_tasks WHERE sample_id = ANY($1) ORDER BY priority DESC', [[s6, s5, s4, s3]])).toEqual([
      { sample_id: s6, state: 'leased', answers: 1 },
      { sample_id: s5, state: 'open', answers: 1 },
      { sample_id: s4, state: 'leased', answers: 1 },
      { sample_id: s3, state: 'open', answers: 0 },
    ]);
  });

  it("keeps the current holder's answer when a stale call on the same sample is in its group, and a repeated call once", async () => {
    const { id, samples, labelers } = await project({ samples: 2, labelers: 2 });
    const [gone, current] = labelers as [string, string];
    const stale = (await claimNext(id, gone))!;
    await queue.release(holder(stale, gone));
    const held = (await claimNext(id, current))!;
    expect(held.sampleId).toBe(stale.sampleId);

    const outcomes = await recordAnswersAndClaim(
      answers,
      [
        { holder: holder(stale, gone), answer: answer('ok'), claimNext: false },
        { holder: holder(held, current), answer: answer('scratch'), claimNext: true },
        { holder: holder(held, current), answer: answer('ok'), claimNext: true },
      ],
      LEASE_SECONDS,
    );
    expect(outcomes.map((outcome) => outcome && { state: outcome.state, next: outcome.next?.sample.sampleId })).toEqual([
      undefined,
      { state: 'done', next: samples[0]!.id },
      undefined,
    ]);
    expect(await sql('SELECT labeler_id, answer_key FROM labels WHERE sample_id = $1', [held.sampleId])).toEqual([
      { labeler_id: current, answer_key: 'scratch' },
    ]);
  });

  it('takes an answer back and hands the sample to its labeler again, while nothing was built on it', async () => {
    const { id, samples, labelers } = await project({ samples: 1, labelers: 3, consensus: 2 });
    const [first, second, third] = labelers as [string, string, string];
    const claimed = (await claimNext(id, first))!;
    expect(await queue.submit(holder(claimed, first), answer('ok'))).toBe('open');
    await expect(queue.undo(second, claimed.sampleId)).rejects.toThrow(NoAnswerToUndoError);

    const undone = await queue.undo(first, claimed.sampleId);
    expect(undone.sample.sampleId).toBe(samples[0]!.id);
    expect(BigInt(undone.sample.token)).toBeGreaterThan(BigInt(claimed.token));
    expect(undone.answeredToday).toBe(0);
    expect(await sql('SELECT count(*)::int AS n FROM labels WHERE sample_id = $1', [claimed.sampleId])).toEqual([{ n: 0 }]);
    // The old lease is fenced off; the new one takes the corrected answer.
    await expect(queue.submit(holder(claimed, first), answer('scratch'))).rejects.toThrow(LeaseLostError);
    expect(await queue.submit(holder(undone.sample, first), answer('scratch'))).toBe('open');

    // Once another labeler holds the sample, the answer stays.
    const held = (await claimNext(id, second))!;
    await expect(queue.undo(first, claimed.sampleId)).rejects.toThrow(/another labeler is answering this sample now/);
    expect(await queue.submit(holder(held, second), answer('ok'))).toBe('review');

    // After a reviewer decided it, too.
    const review = (await reviews.claim(id, third))!;
    await expect(queue.undo(first, claimed.sampleId)).rejects.toThrow(UndoRefusedError);
    await reviews.decide(holder(review, third), { key: 'ok', value: { className: 'ok' } });
    await expect(queue.undo(second, claimed.sampleId)).rejects.toThrow(/a reviewer has taken this sample up/);
  });

  it('keeps an answer older than the lease time', async () => {
    const { id, labelers } = await project({ samples: 1, labelers: 1 });
    const [labeler] = labelers as [string];
    const claimed = (await claimNext(id, labeler))!;
    await queue.submit(holder(claimed, labeler), answer('ok'));
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 100));
    await expect(queue.undo(labeler, claimed.sampleId)).rejects.toThrow(`an answer can be taken back for ${LEASE_SECONDS} s after it is given`);
  });

  it('hands each disagreement to one reviewer with the answers given, and settles it with the decision', async () => {
    const { id, samples, labelers } = await project({ samples: 2, labelers: 4, consensus: 2 });
    const [a, b, reviewer, other] = labelers as [string, string, string, string];
    for (const [labeler, key] of [[a, 'ok'], [b, 'scratch'], [a, 'ok'], [b, 'scratch']] as const) {
      const claimed = (await claimNext(id, labeler))!;
      await queue.submit(holder(claimed, labeler), answer(key));
    }
    expect(await reviews.depth(id)).toBe(2);
    const first = (await reviews.claim(id, reviewer))!;
    expect(first.sampleId).toBe(samples[1]!.id);
    expect(first.answers).toEqual([
      // The fixture names its users labeler-<index>: a and b.
      { labeler: 'labeler-0', answer: { class: 'ok' }, spentMs: 900 },
      { labeler: 'labeler-1', answer: { class: 'scratch' }, spentMs: 900 },
    ]);
    const second = (await reviews.claim(id, other))!;
    expect(second.sampleId).toBe(samples[0]!.id);
    expect(await reviews.claim(id, other)).toBeUndefined();

    expect(await reviews.decide(holder(first, reviewer), { key: 'scratch', value: { className: 'scratch' } })).toBe('done');
    await expect(reviews.decide(holder(first, reviewer), { key: 'ok', value: { className: 'ok' } })).rejects.toThrow(LeaseLostError);
    expect(await sql('SELECT sample_id, reviewer_id, answer FROM reviews WHERE project_id = $1', [id])).toEqual([
      { sample_id: first.sampleId, reviewer_id: reviewer, answer: { className: 'scratch' } },
    ]);

    // An abandoned review returns to the review queue when its lease runs out; the late decision is refused.
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 100));
    const reclaimed = (await reviews.claim(id, reviewer))!;
    expect(reclaimed.sampleId).toBe(second.sampleId);
    await expect(reviews.decide(holder(second, other), { key: 'ok', value: { className: 'ok' } })).rejects.toThrow(LeaseLostError);
    await reviews.release(holder(reclaimed, reviewer));
    expect(await sql('SELECT state FROM label_tasks WHERE sample_id = $1', [second.sampleId])).toEqual([{ state: 'review' }]);
  });
});

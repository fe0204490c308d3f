import { randomUUID } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { LabelingQueue } from './labeling-queue';

describe("a labeler's answers today, per project, on Postgres", () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let queue: LabelingQueue;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    queue = new LabelingQueue(new LabelTaskRepository(database), new LabelAnswerRepository(database), { leaseSeconds: 60 });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const sql = (text: string, values: unknown[] = []) => database.pool.query(text, values);

  /** A project of its own model with `count` queued samples. */
  async function project(count: number): Promise<string> {
    const id = randomUUID();
    const modelName = `model-${id}`;
    await sql(`INSERT INTO projects (id, name, model_name, task, classes, consensus) VALUES ($1, $2, $3, 'classification', '{ok,scratch}', 1)`, [id, `project-${id}`, modelName]);
    const samples = Array.from({ length: count }, () => randomUUID());
    await sql(
      `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                            prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
       SELECT v.id, 'plant', 'aoi-1', 'line-1', '', now(), $2, '1', 'pass', '{}'::jsonb, 0.5, 'margin', 'samples/' || v.id, repeat('0', 64), 1, 'image/png'
       FROM unnest($1::uuid[]) AS v(id)`,
      [samples, modelName],
    );
    await queue.enqueue(samples.map((sampleId) => ({ id: sampleId, modelName, predictedClass: 'ok', samplerPriority: 0.5, reason: 'margin' })));
    return id;
  }

  async function answer(projectId: string, labelerId: string): Promise<string> {
    const { sample } = await queue.claim(projectId, labelerId);
    if (!sample) throw new Error('nothing to claim');
    await queue.submit({ sampleId: sample.sampleId, labelerId, token: sample.token }, { key: 'ok', value: { className: 'ok' }, spentMs: 500 });
    return sample.sampleId;
  }

  it("counts only the labeler's answers in that project, and drops an answer taken back", async () => {
    const [solder, housing] = [await project(3), await project(2)];
    const [ana, ben] = [randomUUID(), randomUUID()];
    await sql(`INSERT INTO users (id, email, name, role, password_hash) SELECT v, v || '@example.com', 'x', 'labeler', 'x' FROM unnest($1::uuid[]) v`, [[ana, ben]]);
    expect(await queue.answeredTodayIn(solder, ana)).toBe(0);

    await answer(solder, ana);
    const last = await answer(solder, ana);
    await answer(housing, ana);
    await answer(solder, ben);
    expect(await queue.answeredTodayIn(solder, ana)).toBe(2);
    expect(await queue.answeredTodayIn(housing, ana)).toBe(1);
    expect(await queue.answeredToday(ana)).toBe(3);

    await queue.undo(ana, last);
    expect(await queue.answeredTodayIn(solder, ana)).toBe(1);

    // Yesterday's answers are not today's.
    await sql(`UPDATE labels SET created_at = current_date - interval '1 second' WHERE labeler_id = $1 AND project_id = $2`, [ana, housing]);
    expect(await queue.answeredTodayIn(housing, ana)).toBe(0);
  });
});

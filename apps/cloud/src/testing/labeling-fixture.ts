import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../database/database';
import type { LabelingQueue } from '../labeling/labeling-queue';

export interface LabelingFixture {
  projectId: string;
  modelName: string;
  /** By priority, lowest first: sample i has priority i / (count - 1). */
  sampleIds: string[];
  userIds: string[];
}

/**
 * A project of its own model on `database`, with `samples` stored samples,
 * queued when `queued` (default), and `users` labelers named `labeler-<i>`.
 */
export async function seedLabelingProject(
  { db }: Pick<Database, 'db'>,
  { samples, users, consensus = 1, queued = true }: { samples: number; users: number; consensus?: number; queued?: boolean },
): Promise<LabelingFixture> {
  const projectId = randomUUID();
  const modelName = `model-${projectId}`;
  await db.insertInto('projects').values({ id: projectId, name: `project-${projectId}`, model_name: modelName, task: 'classification', classes: ['ok', 'scratch'], consensus }).execute();
  const sampleIds = Array.from({ length: samples }, () => randomUUID());
  if (samples > 0) {
    await db
      .insertInto('samples')
      .values(
        sampleIds.map((id, index) => ({
          id,
          site_id: 'plant',
          device_id: 'aoi-1',
          station_id: 'line-1',
          unit_serial: '',
          captured_at: new Date(),
          model_name: modelName,
          model_version: '1',
          verdict: 'reject',
          prediction: JSON.stringify({ scores: [] }),
          priority: index / Math.max(1, samples - 1),
          reason: 'margin',
          image_key: `samples/${id}`,
          image_sha256: '0'.repeat(64),
          image_bytes: 1,
          image_media_type: 'image/jpeg',
        })),
      )
      .execute();
  }
  if (queued && samples > 0) {
    await db
      .insertInto('label_tasks')
      .columns(['sample_id', 'project_id', 'priority'])
      .expression((eb) => eb.selectFrom('samples').select(['id', sql<string>`${projectId}::uuid`.as('project_id'), 'priority']).where('model_name', '=', modelName))
      .execute();
  }
  const userIds = Array.from({ length: users }, () => randomUUID());
  if (users > 0) {
    await db
      .insertInto('users')
      .values(userIds.map((id, index) => ({ id, email: `${id}@example.com`, name: `labeler-${index}`, role: 'labeler', password_hash: 'x' })))
      .execute();
  }
  return { projectId, modelName, sampleIds, userIds };
}

/** Queues every sample of `fixture` through `queue`, as a stored sample is queued, at the fixture's priorities. */
export async function enqueueFixture(queue: Pick<LabelingQueue, 'enqueue'>, fixture: LabelingFixture): Promise<void> {
  const last = Math.max(1, fixture.sampleIds.length - 1);
  await queue.enqueue(
    fixture.sampleIds.map((id, index) => ({ id, modelName: fixture.modelName, predictedClass: 'scratch', samplerPriority: index / last, reason: 'margin' })),
  );
}

import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { BlobStore } from '../blobs/blob-store';
import { splitOf, type Split } from '../labeling/dataset-split';

const TOOLS = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools');

/** A sample id that splitOf puts in `split`. */
export function sampleIdIn(split: Split): string {
  for (;;) {
    const id = randomUUID();
    if (splitOf(id) === split) return id;
  }
}

/**
 * Real board images of two kinds a head can tell apart, for runs that must
 * learn something: the demo's DeepPCB scans as `Normal`, the pcb-aoi colour
 * photos as `Defective`.
 */
export async function boardImages(): Promise<Record<'Normal' | 'Defective', Buffer[]>> {
  const read = async (directory: string) =>
    Promise.all(
      (await readdir(directory))
        .filter((file) => /\.(jpg|png)$/.test(file))
        .sort()
        .map((file) => readFile(join(directory, file))),
    );
  return { Normal: await read(join(TOOLS, 'demo', 'images', 'deeppcb')), Defective: await read(join(TOOLS, 'demo', 'models', 'pcb-aoi', 'sample-images')) };
}

export interface SettledSampleSpec {
  className: string;
  split: Split;
  image: Buffer;
}

/**
 * Stores samples of `modelName` (image in the blob store, row in samples)
 * and settles each in the project with its class, answered by `labelerId`,
 * as the labeling queue leaves a sample its labelers agreed on.
 */
export async function settleSamples(
  db: Pick<pg.Client, 'query'>,
  blobs: Pick<BlobStore, 'put'>,
  target: { projectId: string; modelName: string; labelerId: string },
  samples: readonly SettledSampleSpec[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const { className, split, image } of samples) {
    const id = sampleIdIn(split);
    await blobs.put(`samples/${id}`, image, 'image/jpeg');
    await db.query(
      `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict, prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
       VALUES ($1, 'plant', 'aoi-1', 'line-1', '', now(), $2, '1', 'pass', '{"scores":[]}', 0.5, 'margin', $3, repeat('0', 64), $4, 'image/jpeg')`,
      [id, target.modelName, `samples/${id}`, image.length],
    );
    await db.query(`INSERT INTO label_tasks (sample_id, project_id, priority, state, answers) VALUES ($1, $2, 0.5, 'done', 1)`, [id, target.projectId]);
    await db.query(`INSERT INTO labels (sample_id, project_id, labeler_id, answer_key, answer, spent_ms) VALUES ($1, $2, $3, $4, $5, 1000)`, [
      id,
      target.projectId,
      target.labelerId,
      className,
      JSON.stringify({ className }),
    ]);
    ids.push(id);
  }
  return ids;
}

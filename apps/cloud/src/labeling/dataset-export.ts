import type pg from 'pg';
import { splitOf } from './dataset-split';

interface SettledRow {
  sample_id: string;
  image_key: string;
  station_id: string;
  captured_at: Date;
  model_version: string;
  verdict: string;
  prediction: unknown;
  answer: { className?: string; boxes?: { className: string; x: number; y: number; width: number; height: number }[] };
  labelers: string[];
  reviewer: string | null;
}

// Rows per query: enough to keep round trips rare, few enough that memory
// stays flat however big the project is. Each page starts from the
// (project_id, state, sample_id) index, so its cost does not grow with the
// pages before it.
const PAGE = 500;

/**
 * A project's settled samples as a dataset: JSON Lines for every task, COCO
 * for detection. Rows are read a page at a time by sample id inside one
 * read-only REPEATABLE READ transaction, so an export of any size runs in
 * constant memory and sees one consistent state of the project.
 */
export class DatasetExport {
  constructor(private readonly pool: pg.Pool) {}

  /** Opens a snapshot; `count` is how many samples the export will hold. */
  async open(projectId: string): Promise<{ count: number; jsonl(): AsyncGenerator<string>; coco(classes: string[]): AsyncGenerator<string>; close(): Promise<void> }> {
    const client = await this.pool.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM label_tasks WHERE project_id = $1 AND state = 'done'`, [projectId]);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await client.query('COMMIT').catch(() => undefined);
      client.release();
    };
    const settled = () => pages(client, projectId);
    return {
      count: rows[0]?.n ?? 0,
      close,
      async *jsonl() {
        for await (const row of settled()) {
          yield `${JSON.stringify({
            sampleId: row.sample_id,
            image: { key: row.image_key, url: `/api/samples/${row.sample_id}/image` },
            label: row.answer,
            labelers: row.labelers,
            reviewer: row.reviewer,
            prediction: { verdict: row.verdict, modelVersion: row.model_version, ...(row.prediction as object) },
            split: splitOf(row.sample_id),
            stationId: row.station_id,
            capturedAt: row.captured_at.toISOString(),
          })}\n`;
        }
      },
      async *coco(classes: string[]) {
        const categories = classes.map((name, index) => ({ id: index + 1, name }));
        yield `{"info":{"description":"Loupe export"},"categories":${JSON.stringify(categories)},"images":[`;
        let imageId = 0;
        for await (const row of settled()) {
          imageId++;
          yield `${imageId > 1 ? ',' : ''}${JSON.stringify({ id: imageId, file_name: row.image_key, loupe_sample_id: row.sample_id, split: splitOf(row.sample_id) })}`;
        }
        yield '],"annotations":[';
        // The same snapshot and order again, so image ids match.
        imageId = 0;
        let annotationId = 0;
        for await (const row of settled()) {
          imageId++;
          for (const box of row.answer.boxes ?? []) {
            annotationId++;
            const category = classes.indexOf(box.className) + 1;
            yield `${annotationId > 1 ? ',' : ''}${JSON.stringify({
              id: annotationId,
              image_id: imageId,
              category_id: category,
              bbox: [box.x, box.y, box.width, box.height],
              area: box.width * box.height,
              iscrowd: 0,
            })}`;
          }
        }
        yield ']}\n';
      },
    };
  }
}

async function* pages(client: pg.PoolClient, projectId: string): AsyncGenerator<SettledRow> {
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await client.query<SettledRow>(
      `WITH page AS (
         SELECT sample_id FROM label_tasks
         WHERE project_id = $1 AND state = 'done' AND sample_id > $2
         ORDER BY sample_id LIMIT $3
       )
       -- A reviewer's decision, where there is one, is the label; otherwise
       -- the labelers agreed, and the first answer speaks for all.
       SELECT page.sample_id, s.image_key, s.station_id, s.captured_at, s.model_version, s.verdict, s.prediction,
              COALESCE(r.answer, (array_agg(l.answer ORDER BY l.id))[1]) AS answer, array_agg(u.email ORDER BY l.id) AS labelers,
              ru.email AS reviewer
       FROM page
       JOIN samples s ON s.id = page.sample_id
       JOIN labels l ON l.sample_id = page.sample_id
       JOIN users u ON u.id = l.labeler_id
       LEFT JOIN reviews r ON r.sample_id = page.sample_id
       LEFT JOIN users ru ON ru.id = r.reviewer_id
       GROUP BY page.sample_id, s.id, r.sample_id, ru.id
       ORDER BY page.sample_id`,
      [projectId, after, PAGE],
    );
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.sample_id;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { sql, type ControlledTransaction, type Kysely } from 'kysely';
import type { Database } from '../database/database';
import type { DB } from '../database/generated/database-types';
import { DATABASE } from '../infrastructure.tokens';
import type { SampleView } from './task-leases';

/** A settled sample as an export writes it: its label, who gave it, and what the model said. */
export interface SettledSample extends SampleView {
  answer: { className?: string; boxes?: { className: string; x: number; y: number; width: number; height: number }[] };
  labelers: string[];
  reviewer: string | null;
}

/** One consistent state of a project's settled samples, until closed. */
export interface SettledSnapshot {
  count: number;
  /** Every settled sample by sample id; may be read more than once, in the same order. */
  settled: () => AsyncGenerator<SettledSample>;
  close: () => Promise<void>;
}

// Rows per query: enough to keep round trips rare, few enough that memory
// stays flat however big the project is. Each page starts from the
// (project_id, state, sample_id) index, so its cost does not grow with the
// pages before it.
const PAGE = 500;

/**
 * Reads a project's settled samples a page at a time by sample id inside one
 * read-only REPEATABLE READ transaction, so an export of any size runs in
 * constant memory and sees one consistent state of the project.
 */
@Injectable()
export class DatasetExportRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  async snapshot(projectId: string): Promise<SettledSnapshot> {
    const trx = await this.db.startTransaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute();
    const { n } = await trx
      .selectFrom('label_tasks')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('project_id', '=', projectId)
      .where('state', '=', 'done')
      .executeTakeFirstOrThrow();
    let closed = false;
    return {
      count: n,
      settled: () => pages(trx, projectId),
      close: async () => {
        if (closed) return;
        closed = true;
        // A read-only snapshot has nothing to lose; what matters is that the
        // connection goes back to the pool, which a failed rollback still does.
        await trx
          .commit()
          .execute()
          .catch(() => trx.rollback().execute())
          .catch(() => undefined);
      },
    };
  }
}

async function* pages(trx: ControlledTransaction<DB>, projectId: string): AsyncGenerator<SettledSample> {
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await page(trx, projectId, after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.sampleId;
  }
}

function page(trx: ControlledTransaction<DB>, projectId: string, after: string): Promise<SettledSample[]> {
  return (
    trx
      .with('page', (db) =>
        db
          .selectFrom('label_tasks')
          .select('sample_id')
          .where('project_id', '=', projectId)
          .where('state', '=', 'done')
          .where('sample_id', '>', after)
          .orderBy('sample_id')
          .limit(PAGE),
      )
      .selectFrom('page')
      .innerJoin('samples as s', 's.id', 'page.sample_id')
      .innerJoin('labels as l', 'l.sample_id', 'page.sample_id')
      .innerJoin('users as u', 'u.id', 'l.labeler_id')
      .leftJoin('reviews as r', 'r.sample_id', 'page.sample_id')
      .leftJoin('users as ru', 'ru.id', 'r.reviewer_id')
      .select((eb) => [
        'page.sample_id as sampleId',
        's.image_key as imageKey',
        's.station_id as stationId',
        's.captured_at as capturedAt',
        's.model_version as modelVersion',
        's.verdict',
        's.prediction',
        // A reviewer's decision, where there is one, is the label; otherwise
        // the labelers agreed, and the first answer speaks for all.
        sql<SettledSample['answer']>`COALESCE(r.answer, (array_agg(l.answer ORDER BY l.id))[1])`.as('answer'),
        eb.fn.agg<string[]>('array_agg', ['u.email']).orderBy('l.id').as('labelers'),
        'ru.email as reviewer',
      ])
      .groupBy(['page.sample_id', 's.id', 'r.sample_id', 'ru.id'])
      .orderBy('page.sample_id')
      .execute()
  );
}

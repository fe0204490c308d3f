import { sql, type Kysely } from 'kysely';
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import type { DB } from '../database/generated/database-types';
import { preparedQuery } from '../database/prepared-query';
import { DATABASE } from '../infrastructure.tokens';
import { claimBest, heldBy, type ClaimedRow } from './label-task.repository';
import type { LeaseHolder } from './task-leases';

/** One labeler's answer, as stored for the reviewer to see. */
export interface StoredAnswer {
  labeler: string;
  answer: unknown;
  spentMs: number;
}

// Run on every claim a reviewer makes, so Postgres plans it once per connection.
const claimForReviewer = preparedQuery('labeling-review-claim', (db, p: { projectId: string; reviewerId: string; leaseSeconds: number }) =>
  claimBest(db, 'reviewing', { projectId: p.projectId, holderId: p.reviewerId, leaseSeconds: p.leaseSeconds }).returning((eb) =>
    eb
      .selectFrom('labels as l')
      .innerJoin('users as u', 'u.id', 'l.labeler_id')
      .select(sql<StoredAnswer[] | null>`json_agg(json_build_object('labeler', u.name, 'answer', l.answer, 'spentMs', l.spent_ms) ORDER BY l.id)`.as('answers'))
      .whereRef('l.sample_id', '=', 't.sample_id')
      .as('answers'),
  ),
);

/** Reviews: the disagreements reviewers claim, and the decisions that settle them. */
@Injectable()
export class ReviewRepository {
  private readonly db: Kysely<DB>;

  /** On the database, or on a transaction given as `{ db: trx }`. */
  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /** Leases the reviewer the project's best disagreement no one is reviewing, with the answers given on it. */
  async claim(projectId: string, reviewerId: string, leaseSeconds: number): Promise<(ClaimedRow & { answers: StoredAnswer[] | null }) | undefined> {
    const { rows } = await claimForReviewer.execute(this.db, { projectId, reviewerId, leaseSeconds });
    return rows[0];
  }

  /**
   * Records the reviewer's answer as the sample's label and settles its
   * task, in one statement, if their lease is live; returns the task's
   * project, or undefined when the lease was not live.
   */
  async decide(holder: LeaseHolder, answer: { key: string; value: unknown }): Promise<string | undefined> {
    const row = await this.db
      .with('held', (qc) => qc.selectFrom('label_tasks as t').select(['t.sample_id', 't.project_id']).where(heldBy('reviewing', holder)).forUpdate('t'))
      .with('decided', (qc) =>
        qc
          .insertInto('reviews')
          .columns(['sample_id', 'project_id', 'reviewer_id', 'answer_key', 'answer'])
          .expression((eb) =>
            eb
              .selectFrom('held')
              .select(['held.sample_id', 'held.project_id', sql<string>`${holder.labelerId}::uuid`.as('reviewer_id'), sql<string>`${answer.key}`.as('answer_key'), sql`${JSON.stringify(answer.value)}::jsonb`.as('answer')]),
          )
          .onConflict((oc) => oc.column('sample_id').doNothing())
          .returning('sample_id'),
      )
      .updateTable('label_tasks as t')
      .set({ state: sql.lit('done'), lease_holder: null, lease_expires_at: null })
      .from('decided as d')
      .whereRef('t.sample_id', '=', 'd.sample_id')
      .returning('t.project_id')
      .executeTakeFirst();
    return row?.project_id;
  }
}

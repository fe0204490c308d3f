import { sql, type Kysely, type Selectable } from 'kysely';
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import type { DB, LabelTask } from '../database/generated/database-types';
import { DATABASE } from '../infrastructure.tokens';
import type { SettledState } from './answer-commit';
import { answeredTodayBy, CLAIMED_COLUMNS, heldBy, leaseTo, type ClaimedRow } from './label-task.repository';
import type { LeaseHolder } from './task-leases';

/** An answer as the group statement records it. */
export interface AnswerToRecord {
  holder: LeaseHolder;
  key: string;
  value: unknown;
  spentMs: number;
}

/** A recorded answer's task, by the answer's position in the group (from 1). */
export type SettledRow = Pick<Selectable<LabelTask>, 'project_id'> & { position: string; state: SettledState };

/** An open task, and which of the labelers asked about have answered or skipped it. */
export interface OfferableRow {
  sample_id: string;
  passed_by: string[];
}

/** A claimed task with its labeler's answers today. */
export type ClaimedWithCount = ClaimedRow & { answered_today: number };

/**
 * Labelers' answers: the grouped statements that record them and claim the
 * next tasks, taking one back, and what is counted of them. The statements
 * of a group are not prepared: their plans must follow the tables as they
 * grow (a plan cached while labels was empty scans it), and planning is paid
 * once per group, not once per answer.
 */
@Injectable()
export class LabelAnswerRepository {
  private readonly db: Kysely<DB>;

  /** On the database, or on a transaction given as `{ db: trx }`. */
  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /** Runs `work` in one transaction, on a repository bound to it. */
  inTransaction<T>(work: (answers: LabelAnswerRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new LabelAnswerRepository({ db: trx })));
  }

  /**
   * Records the answers whose leases are live and ends those leases. Tasks
   * are found by sample id alone, so the lookup cannot turn into a scan of
   * every leased task. A task's count of answers says whether there are
   * earlier ones to compare with, so a first answer, the common case, reads
   * no labels. Locks are taken in sample order, so two groups answering the
   * same samples wait instead of deadlocking. K agreeing answers settle a
   * sample; any disagreement goes to a reviewer, since more votes would only
   * hide it. The statement's snapshot holds the earlier answers, not the
   * ones it adds.
   */
  async record(answers: AnswerToRecord[]): Promise<SettledRow[]> {
    const { rows } = await sql<SettledRow>`WITH given AS (
         SELECT * FROM unnest(${answers.map((a) => a.holder.sampleId)}::uuid[], ${answers.map((a) => a.holder.labelerId)}::uuid[],
                              ${answers.map((a) => a.holder.token)}::bigint[], ${answers.map((a) => a.key)}::text[],
                              ${answers.map((a) => JSON.stringify(a.value))}::jsonb[], ${answers.map((a) => Math.round(a.spentMs))}::int[]) WITH ORDINALITY
           AS g(sample_id, labeler_id, token, answer_key, answer, spent_ms, position)
       ), held AS (
         SELECT t.sample_id, t.project_id, t.answers, g.labeler_id, g.answer_key, g.answer, g.spent_ms, g.position
         FROM label_tasks t JOIN given g ON g.sample_id = t.sample_id
         WHERE t.state = 'leased' AND t.lease_holder = g.labeler_id AND t.lease_token = g.token AND t.lease_expires_at > now()
         ORDER BY t.sample_id
         FOR UPDATE OF t
       ), answered AS (
         INSERT INTO labels (sample_id, project_id, labeler_id, answer_key, answer, spent_ms)
         SELECT sample_id, project_id, labeler_id, answer_key, answer, spent_ms FROM held
         ON CONFLICT (sample_id, labeler_id) DO NOTHING
         RETURNING sample_id, labeler_id, created_at::date AS day
       ), counted AS (
         INSERT INTO labeler_days (labeler_id, day, answers)
         SELECT labeler_id, day, count(*) FROM answered GROUP BY labeler_id, day ORDER BY labeler_id
         ON CONFLICT (labeler_id, day) DO UPDATE SET answers = labeler_days.answers + excluded.answers
       ), decided AS (
         SELECT h.sample_id, h.position,
                CASE WHEN h.answers > 0 AND EXISTS (
                       SELECT 1 FROM labels l WHERE l.sample_id = h.sample_id AND l.answer_key <> h.answer_key
                     ) THEN 'review'
                     WHEN h.answers + 1 >= (SELECT consensus FROM projects p WHERE p.id = h.project_id) THEN 'done'
                     ELSE 'open' END AS state,
                h.answers + 1 AS answers
         FROM held h JOIN answered a ON a.sample_id = h.sample_id
       )
       UPDATE label_tasks t SET state = d.state, answers = d.answers, lease_holder = NULL, lease_expires_at = NULL
       FROM decided d
       WHERE t.sample_id = d.sample_id
       RETURNING d.position, t.state, t.project_id`.execute(this.db);
    return rows;
  }

  /**
   * The best `limit` open tasks of the project, with which of `labelerIds`
   * answered or skipped each; rows other claims hold are passed over, not
   * waited for. Statements earlier in the transaction count: an answer just
   * recorded shows, so its labeler is not handed the sample again.
   */
  offerable(projectId: string, labelerIds: string[], limit: number): Promise<OfferableRow[]> {
    return this.db
      .selectFrom('label_tasks as t')
      .select(
        sql<string[]>`ARRAY(
          SELECT l.labeler_id FROM labels l WHERE l.sample_id = t.sample_id AND l.labeler_id = ANY(${labelerIds}::uuid[])
          UNION ALL
          SELECT k.labeler_id FROM label_skips k WHERE k.sample_id = t.sample_id AND k.labeler_id = ANY(${labelerIds}::uuid[])
        )::text[]`.as('passed_by'),
      )
      .select('t.sample_id')
      .where('t.project_id', '=', projectId)
      .where('t.state', '=', sql.lit('open'))
      .orderBy('t.priority', 'desc')
      .orderBy('t.enqueued_at')
      .limit(limit)
      .forUpdate('t')
      .skipLocked()
      .execute();
  }

  /**
   * Leases each task to its labeler, pairwise. The rows are locked by this
   * transaction's `offerable`, so they are still open. The answers today
   * include those this transaction recorded.
   */
  lease(claims: { sampleId: string; labelerId: string }[], leaseSeconds: number): Promise<ClaimedWithCount[]> {
    return this.db
      .updateTable('label_tasks as t')
      .from([
        sql<{ sample_id: string; labeler_id: string }>`unnest(${claims.map((c) => c.sampleId)}::uuid[], ${claims.map((c) => c.labelerId)}::uuid[])`.as<'a'>(
          sql`a(sample_id, labeler_id)`,
        ),
        'samples as s',
      ])
      .set((eb) => leaseTo('leased', eb.ref('a.labeler_id'), leaseSeconds))
      .whereRef('t.sample_id', '=', 'a.sample_id')
      .whereRef('s.id', '=', 't.sample_id')
      .returning(CLAIMED_COLUMNS)
      .returning((eb) => answeredTodayBy(eb.ref('a.labeler_id')).as('answered_today'))
      .execute();
  }

  /** Whether the holder's lease is live, and whether they answered the sample already. */
  async submission(holder: LeaseHolder): Promise<{ held: boolean; answered: boolean }> {
    const row = await this.db
      .selectNoFrom((eb) => [
        eb.exists(eb.selectFrom('label_tasks as t').select(sql.lit(1).as('one')).where(heldBy('leased', holder))).$castTo<boolean>().as('held'),
        eb
          .exists(eb.selectFrom('labels').select(sql.lit(1).as('one')).where('sample_id', '=', holder.sampleId).where('labeler_id', '=', holder.labelerId))
          .$castTo<boolean>()
          .as('answered'),
      ])
      .executeTakeFirstOrThrow();
    return { held: row.held, answered: row.answered };
  }

  /**
   * Takes back the labeler's answer on the sample and leases it to them
   * again, if they answered it less than `leaseSeconds` ago, it is not
   * leased to anyone and no reviewer has decided it; undefined otherwise.
   * Their count of answers today loses the answer too.
   */
  async undo(labelerId: string, sampleId: string, leaseSeconds: number): Promise<ClaimedWithCount | undefined> {
    return this.db
      .with('target', (qc) =>
        qc
          .selectFrom('label_tasks as t')
          .innerJoin('labels as l', (join) => join.onRef('l.sample_id', '=', 't.sample_id').on('l.labeler_id', '=', labelerId))
          .select('t.sample_id')
          .where('t.sample_id', '=', sampleId)
          .where('t.state', 'in', [sql.lit('open'), sql.lit('done'), sql.lit('review')])
          .where('l.created_at', '>', sql<Date>`now() - make_interval(secs => ${leaseSeconds})`)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('reviews as r').select(sql.lit(1).as('one')).whereRef('r.sample_id', '=', 't.sample_id'))))
          .forUpdate('t'),
      )
      .with('taken_back', (qc) =>
        qc
          .deleteFrom('labels as l')
          .using('target')
          .whereRef('l.sample_id', '=', 'target.sample_id')
          .where('l.labeler_id', '=', labelerId)
          .returning(['l.sample_id', sql<Date>`l.created_at::date`.as('day')]),
      )
      .with('uncounted', (qc) =>
        qc
          .updateTable('labeler_days as d')
          .set({ answers: sql<number>`d.answers - 1` })
          .from('taken_back')
          .where('d.labeler_id', '=', labelerId)
          .whereRef('d.day', '=', 'taken_back.day'),
      )
      .updateTable('label_tasks as t')
      .set({ ...leaseTo('leased', labelerId, leaseSeconds), answers: sql<number>`t.answers - 1` })
      .from(['taken_back', 'samples as s'])
      .whereRef('t.sample_id', '=', 'taken_back.sample_id')
      .whereRef('s.id', '=', 't.sample_id')
      .returning(CLAIMED_COLUMNS)
      // The statement's snapshot still counts the answer it takes back.
      .returning(sql<number>`${answeredTodayBy(labelerId)} - (taken_back.day = current_date)::int`.as('answered_today'))
      .executeTakeFirst();
  }

  /** Where the labeler's answer on the sample stands, for saying why it could not be taken back; undefined when there is none. */
  async answerStanding(labelerId: string, sampleId: string, leaseSeconds: number): Promise<{ recent: boolean; state: string; reviewed: boolean } | undefined> {
    return this.db
      .selectFrom('labels as l')
      .innerJoin('label_tasks as t', 't.sample_id', 'l.sample_id')
      .select((eb) => [
        sql<boolean>`l.created_at > now() - make_interval(secs => ${leaseSeconds})`.as('recent'),
        't.state',
        eb.exists(eb.selectFrom('reviews as r').select(sql.lit(1).as('one')).where('r.sample_id', '=', sampleId)).$castTo<boolean>().as('reviewed'),
      ])
      .where('l.sample_id', '=', sampleId)
      .where('l.labeler_id', '=', labelerId)
      .executeTakeFirst();
  }

  /** Answers the labeler gave since midnight, from their running count. */
  async answeredToday(labelerId: string): Promise<number> {
    const { n } = await this.db.selectNoFrom(answeredTodayBy(labelerId).as('n')).executeTakeFirstOrThrow();
    return n;
  }

  /** Answers the labeler gave in the project since midnight, counted from their labels (index labels(labeler_id, created_at)). */
  async answeredTodayIn(projectId: string, labelerId: string): Promise<number> {
    const { n } = await this.db
      .selectFrom('labels')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('labeler_id', '=', labelerId)
      .where('created_at', '>=', sql<Date>`current_date`)
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return n;
  }

  /** Labels per answer per project's model. */
  countsByModelAndAnswer(): Promise<{ model_name: string; answer_key: string; n: number }[]> {
    return this.db
      .selectFrom('labels as l')
      .innerJoin('projects as p', 'p.id', 'l.project_id')
      .select(['p.model_name', 'l.answer_key', sql<number>`count(*)::int`.as('n')])
      .groupBy(['p.model_name', 'l.answer_key'])
      .execute();
  }
}

import { expressionBuilder, sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import type { DB, LabelTask, Sample } from '../database/generated/database-types';
import { preparedQuery } from '../database/prepared-query';
import { DATABASE } from '../infrastructure.tokens';
import type { ClaimedSample, LeasedState, LeaseHolder } from './task-leases';

/** Where a task under a lease came from, and goes back to when the lease ends without an answer. */
export const CLAIMED_FROM = { leased: 'open', reviewing: 'review' } as const satisfies Record<LeasedState, string>;

type TaskScope = DB & { t: LabelTask };

/** The caller's lease on task t is live: theirs, with the current token, not run out. */
export function heldBy(state: LeasedState, holder: LeaseHolder) {
  return (eb: ExpressionBuilder<TaskScope, 't'>) =>
    eb.and([
      eb('t.sample_id', '=', holder.sampleId),
      eb('t.state', '=', sql.lit(state)),
      eb('t.lease_holder', '=', holder.labelerId),
      eb('t.lease_token', '=', sql<string>`${holder.token}::bigint`),
      eb('t.lease_expires_at', '>', sql<Date>`now()`),
    ]);
}

/** Starts a lease on task t for `holder`, for `seconds`; the claim's new token fences off the previous holder. */
export function leaseTo(state: LeasedState, holder: string | Expression<string>, seconds: number) {
  return {
    state: sql.lit(state),
    lease_holder: holder,
    lease_token: sql<string>`t.lease_token + 1`,
    lease_expires_at: sql<Date>`clock_timestamp() + make_interval(secs => ${seconds})`,
  };
}

const schema = expressionBuilder<DB, never>();

/** The answers a labeler gave today, as the statement's snapshot has them. */
export function answeredTodayBy(labelerId: string | Expression<string>) {
  return schema.fn.coalesce(
    schema.selectFrom('labeler_days').select('answers').where('labeler_id', '=', labelerId).where('day', '=', sql<Date>`current_date`),
    sql.lit(0),
  );
}

/** What a claim returns about task t and its sample s. */
export const CLAIMED_COLUMNS = [
  't.sample_id',
  sql<string>`t.lease_token::text`.as('token'),
  't.lease_expires_at',
  's.image_key',
  's.station_id',
  's.captured_at',
  's.model_version',
  's.verdict',
  's.prediction',
  's.reason',
] as const;

export type ClaimedRow = Pick<Selectable<LabelTask>, 'sample_id' | 'lease_expires_at'> &
  Pick<Selectable<Sample>, 'image_key' | 'station_id' | 'captured_at' | 'model_version' | 'verdict' | 'prediction' | 'reason'> & { token: string };

export function toClaimedSample(row: ClaimedRow): ClaimedSample {
  return {
    sampleId: row.sample_id,
    token: row.token,
    // A claim has just set it.
    expiresAt: row.lease_expires_at!,
    imageKey: row.image_key,
    stationId: row.station_id,
    capturedAt: row.captured_at,
    modelVersion: row.model_version,
    verdict: row.verdict,
    prediction: row.prediction,
    reason: row.reason,
  };
}

/**
 * Leases the best task of `projectId` waiting in the state `state` is
 * claimed from, to `holderId` for `leaseSeconds`: `FOR UPDATE SKIP LOCKED`
 * passes over a row a concurrent claim holds instead of queueing on it, and
 * the UPDATE checks the row's state again. States and the limit are literals,
 * so the prepared plan is the one the index (project_id, state, priority
 * DESC, enqueued_at) serves. `offerable` narrows the rows a holder may take.
 */
export function claimBest(
  db: Kysely<DB>,
  state: LeasedState,
  p: { projectId: string; holderId: string; leaseSeconds: number },
  offerable: (eb: ExpressionBuilder<TaskScope, 't'>) => Expression<SqlBool> = () => sql.lit(true),
) {
  return db
    .with('next', (qc) =>
      qc
        .selectFrom('label_tasks as t')
        .select('t.sample_id')
        .where('t.project_id', '=', p.projectId)
        .where('t.state', '=', sql.lit(CLAIMED_FROM[state]))
        .where(offerable)
        .orderBy('t.priority', 'desc')
        .orderBy('t.enqueued_at')
        .limit(sql.lit(1))
        .forUpdate('t')
        .skipLocked(),
    )
    .updateTable('label_tasks as t')
    .set(leaseTo(state, p.holderId, p.leaseSeconds))
    .from(['next', 'samples as s'])
    .whereRef('t.sample_id', '=', 'next.sample_id')
    .whereRef('s.id', '=', 't.sample_id')
    .where('t.state', '=', sql.lit(CLAIMED_FROM[state]))
    .returning(CLAIMED_COLUMNS);
}

/** Labeler `labelerId` has neither answered nor skipped task t. */
export function notPassedBy(labelerId: string) {
  return (eb: ExpressionBuilder<TaskScope, 't'>) =>
    eb.and([
      eb.not(eb.exists(eb.selectFrom('labels as l').select(sql.lit(1).as('one')).whereRef('l.sample_id', '=', 't.sample_id').where('l.labeler_id', '=', labelerId))),
      eb.not(
        eb.exists(eb.selectFrom('label_skips as k').select(sql.lit(1).as('one')).whereRef('k.sample_id', '=', 't.sample_id').where('k.labeler_id', '=', labelerId)),
      ),
    ]);
}

// Run on every claim a labeler makes, so Postgres plans it once per connection.
const claimForLabeler = preparedQuery('labeling-claim', (db, p: { projectId: string; labelerId: string; leaseSeconds: number }) =>
  claimBest(db, 'leased', { projectId: p.projectId, holderId: p.labelerId, leaseSeconds: p.leaseSeconds }, notPassedBy(p.labelerId)).returning(
    answeredTodayBy(p.labelerId).as('answered_today'),
  ),
);

/** A task to queue: its sample, the model that judged it, and its place in the queue. */
export interface TaskToQueue {
  sampleId: string;
  modelName: string;
  priority: number;
}

/** Labeling tasks: queueing, claiming and the leases labelers and reviewers hold on them. */
@Injectable()
export class LabelTaskRepository {
  private readonly db: Kysely<DB>;

  /** On the database, or on a transaction given as `{ db: trx }`. */
  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /** Queues each sample in the project that takes its model, if one does; a sample queued already stays as it is. */
  async enqueue(tasks: TaskToQueue[]): Promise<void> {
    await this.db
      .insertInto('label_tasks')
      .columns(['sample_id', 'project_id', 'priority'])
      .expression((eb) =>
        eb
          .selectFrom(
            sql<{ sample_id: string; model_name: string; priority: number }>`unnest(${tasks.map((task) => task.sampleId)}::uuid[], ${tasks.map((task) => task.modelName)}::text[], ${tasks.map((task) => task.priority)}::real[])`.as<'v'>(
              sql`v(sample_id, model_name, priority)`,
            ),
          )
          .innerJoin('projects as p', 'p.model_name', 'v.model_name')
          .select(['v.sample_id', 'p.id', 'v.priority']),
      )
      .onConflict((oc) => oc.column('sample_id').doNothing())
      .execute();
  }

  /** Leases the labeler the best open task of the project they have not answered or skipped, with their answers today. */
  async claim(projectId: string, labelerId: string, leaseSeconds: number): Promise<(ClaimedRow & { answered_today: number }) | undefined> {
    const { rows } = await claimForLabeler.execute(this.db, { projectId, labelerId, leaseSeconds });
    return rows[0];
  }

  /** Whether the project has an open task the labeler has not answered or skipped. */
  async hasClaimable(projectId: string, labelerId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('label_tasks as t')
      .select(sql.lit(1).as('one'))
      .where('t.project_id', '=', projectId)
      .where('t.state', '=', sql.lit('open'))
      .where(notPassedBy(labelerId))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Extends a live lease by `seconds` from now; undefined when the holder's lease is not live. */
  async heartbeat(state: LeasedState, holder: LeaseHolder, seconds: number): Promise<Date | undefined> {
    const row = await this.db
      .updateTable('label_tasks as t')
      .set({ lease_expires_at: sql<Date>`clock_timestamp() + make_interval(secs => ${seconds})` })
      .where(heldBy(state, holder))
      .returning('t.lease_expires_at')
      .executeTakeFirst();
    return row?.lease_expires_at ?? undefined;
  }

  /** Ends a live lease without an answer, the task going back where it was claimed from; false when the lease was not live. */
  async release(state: LeasedState, holder: LeaseHolder): Promise<boolean> {
    const { numUpdatedRows } = await this.db
      .updateTable('label_tasks as t')
      .set({ state: sql.lit(CLAIMED_FROM[state]), lease_holder: null, lease_expires_at: null })
      .where(heldBy(state, holder))
      .executeTakeFirstOrThrow();
    return numUpdatedRows === 1n;
  }

  /** Releases the labeler's live lease and keeps the task from being offered to them again, in one transaction; false when the lease was not live. */
  skip(holder: LeaseHolder): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await new LabelTaskRepository({ db: trx }).release('leased', holder))) return false;
      await trx.insertInto('label_skips').values({ sample_id: holder.sampleId, labeler_id: holder.labelerId }).onConflict((oc) => oc.doNothing()).execute();
      return true;
    });
  }

  /** Puts the project's tasks whose lease ran out back where they were claimed from. */
  async returnExpired(projectId: string): Promise<void> {
    await this.db
      .updateTable('label_tasks')
      .set({ state: sql<string>`CASE state WHEN 'leased' THEN 'open' ELSE 'review' END`, lease_holder: null, lease_expires_at: null })
      .where('project_id', '=', projectId)
      .where('state', 'in', [sql.lit('leased'), sql.lit('reviewing')])
      .where('lease_expires_at', '<=', sql<Date>`now()`)
      .execute();
  }

  /** Tasks of the project in any of `states`. */
  async count(projectId: string, states: readonly string[]): Promise<number> {
    const { n } = await this.db
      .selectFrom('label_tasks')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('project_id', '=', projectId)
      .where('state', 'in', states.map((state) => sql.lit(state)))
      .executeTakeFirstOrThrow();
    return n;
  }

  /** Tasks not yet done, per project name and state. */
  notDone(): Promise<{ project: string; state: string; n: number }[]> {
    return this.db
      .selectFrom('label_tasks as t')
      .innerJoin('projects as p', 'p.id', 't.project_id')
      .select(['p.name as project', 't.state', sql<number>`count(*)::int`.as('n')])
      .where('t.state', '<>', sql.lit('done'))
      .groupBy(['p.name', 't.state'])
      .execute();
  }
}

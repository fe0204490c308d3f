import { Inject, Injectable } from '@nestjs/common';
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../database/database';
import type { DB, TrainingRun as TrainingRunRow } from '../database/generated/database-types';
import { preparedQuery } from '../database/prepared-query';
import { DATABASE } from '../infrastructure.tokens';
import type { NewTrainingRun, RunFindings, RunLease, RunOutcome, TrainingRun } from './training-run';

type RunScope = DB & { t: TrainingRunRow };

const RUN_FIELDS = [
  'id',
  'project_id',
  'model_name',
  'state',
  'trigger',
  'started_by',
  'author_id',
  'backbone_model',
  'backbone_version',
  'recipe',
  'progress',
  'dataset',
  'features',
  'challenger',
  'champion',
  'candidate_version',
  'decision',
  'rollout_id',
  'error',
  'attempts',
  'created_at',
  'started_at',
  'finished_at',
] as const;

/** The same, on training_runs as t (a claim joins its CTE, whose id would make a bare `id` ambiguous). */
const RUN_COLUMNS = RUN_FIELDS.map((field) => `t.${field}` as const);

type RunRow = Omit<Selectable<TrainingRunRow>, 'lease_owner' | 'lease_expires_at'>;

// The states, trigger and decision columns only ever hold what the REST contract names: only this repository writes them.
const toRun = (row: RunRow): TrainingRun => ({
  id: row.id,
  projectId: row.project_id,
  modelName: row.model_name,
  state: row.state as TrainingRun['state'],
  trigger: row.trigger as TrainingRun['trigger'],
  startedBy: row.started_by,
  authorId: row.author_id,
  progress: row.progress as TrainingRun['progress'],
  backbone: { model: row.backbone_model, version: row.backbone_version },
  recipe: row.recipe as TrainingRun['recipe'],
  dataset: row.dataset as TrainingRun['dataset'],
  features: row.features as TrainingRun['features'],
  challenger: row.challenger as TrainingRun['challenger'],
  champion: row.champion as TrainingRun['champion'],
  candidateVersion: row.candidate_version,
  decision: row.decision as TrainingRun['decision'],
  rolloutId: row.rollout_id,
  error: row.error,
  attempts: row.attempts,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
});

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

/**
 * A run a claim may take: queued, or running under a lease that ran out (its
 * worker died or stalled) with attempts left. Checked again by the UPDATE
 * once the row is locked.
 */
function claimable(maxAttempts: number) {
  return (eb: ExpressionBuilder<RunScope, 't'>) =>
    eb.or([
      eb('t.state', '=', sql.lit('queued')),
      eb.and([eb('t.state', '=', sql.lit('running')), eb('t.lease_expires_at', '<=', sql<Date>`clock_timestamp()`), eb('t.attempts', '<', maxAttempts)]),
    ]);
}

/** The worker's lease on run t is still its own: the same owner and attempt, and the run still running. */
function heldBy(lease: RunLease) {
  return (eb: ExpressionBuilder<RunScope, 't'>) =>
    eb.and([eb('t.id', '=', lease.runId), eb('t.state', '=', sql.lit('running')), eb('t.lease_owner', '=', lease.owner), eb('t.attempts', '=', lease.attempt)]);
}

const leaseUntil = (seconds: number) => sql<Date>`clock_timestamp() + make_interval(secs => ${seconds})`;

/**
 * Takes the oldest claimable run for `owner`: `FOR UPDATE SKIP LOCKED`
 * passes over a run a concurrent claim holds instead of queueing on it, so
 * two workers polling at once take two runs, never one twice. Every claim
 * counts an attempt; the attempt number is the lease's fencing token.
 * Every worker runs it on every poll, so Postgres plans it once per connection.
 */
const claimRun = preparedQuery('training-claim', (db, p: { owner: string; leaseSeconds: number; maxAttempts: number }) =>
  db
    .with('next', (qc) =>
      qc
        .selectFrom('training_runs as t')
        .select('t.id')
        .where(claimable(p.maxAttempts))
        .orderBy('t.created_at')
        .limit(sql.lit(1))
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('training_runs as t')
    .set({
      state: sql.lit('running'),
      lease_owner: p.owner,
      lease_expires_at: leaseUntil(p.leaseSeconds),
      attempts: sql<number>`t.attempts + 1`,
      started_at: sql<Date>`coalesce(t.started_at, clock_timestamp())`,
    })
    .from('next')
    .whereRef('t.id', '=', 'next.id')
    .where(claimable(p.maxAttempts))
    .returning(RUN_COLUMNS),
);

/** training_runs: runs as jobs, their leases, and what each found. */
@Injectable()
export class TrainingRunRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  async insert(run: NewTrainingRun): Promise<TrainingRun> {
    const row = await this.db
      .insertInto('training_runs')
      .values({
        id: run.id,
        project_id: run.projectId,
        model_name: run.modelName,
        trigger: run.trigger,
        started_by: run.startedBy,
        author_id: run.authorId,
        backbone_model: run.backbone.model,
        backbone_version: run.backbone.version,
        recipe: JSON.stringify(run.recipe),
      })
      .returning(RUN_FIELDS)
      .executeTakeFirstOrThrow();
    return toRun(row);
  }

  /**
   * Queues the run unless its project has one queued or running; undefined
   * then. The project's row is locked for the check and the insert, so two
   * replicas' triggers firing at once queue one run between them.
   */
  insertUnlessBusy(run: NewTrainingRun): Promise<TrainingRun | undefined> {
    return this.db.transaction().execute(async (trx) => {
      await trx.selectFrom('projects').select('id').where('id', '=', run.projectId).forUpdate().execute();
      const busy = await trx
        .selectFrom('training_runs')
        .select('id')
        .where('project_id', '=', run.projectId)
        .where('state', 'in', [sql.lit('queued'), sql.lit('running')])
        .limit(1)
        .executeTakeFirst();
      return busy ? undefined : new TrainingRunRepository({ db: trx }).insert(run);
    });
  }

  async find(id: string): Promise<TrainingRun | undefined> {
    const row = await this.runsAsRead().where('t.id', '=', id).executeTakeFirst();
    return row && toRun(row);
  }

  /** The project's latest runs, newest first. */
  async ofProject(projectId: string, limit: number): Promise<TrainingRun[]> {
    const rows = await this.runsAsRead()
      .where('t.project_id', '=', projectId)
      .orderBy('t.created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  /**
   * Runs as people read them: once its candidate is pushed, what became of
   * it (approved, rejected, its rollout) is the promotion's to say, and the
   * run's own columns keep only what publishing decided.
   */
  private runsAsRead() {
    return this.db
      .selectFrom('training_runs as t')
      .leftJoin('promotions as p', 'p.run_id', 't.id')
      .select(RUN_COLUMNS.filter((column) => column !== 't.decision' && column !== 't.rollout_id'))
      .select((eb) => [eb.fn.coalesce('p.decision', 't.decision').as('decision'), eb.fn.coalesce('p.rollout_id', 't.rollout_id').as('rollout_id')]);
  }

  /** Leases the oldest claimable run to `owner` for `leaseSeconds`; undefined when none waits. */
  async claim(owner: string, leaseSeconds: number, maxAttempts: number): Promise<{ run: TrainingRun; lease: RunLease } | undefined> {
    const { rows } = await claimRun.execute(this.db, { owner, leaseSeconds, maxAttempts });
    const row = rows[0];
    return row && { run: toRun(row), lease: { runId: row.id, owner, attempt: row.attempts } };
  }

  /**
   * Fails the runs whose lease ran out on their last attempt: each of their
   * workers died or stalled, and another try is not likely to end otherwise.
   */
  async failAbandoned(maxAttempts: number): Promise<TrainingRun[]> {
    const rows = await this.db
      .updateTable('training_runs as t')
      .set({
        state: sql.lit('failed'),
        error: sql<string>`'the run was interrupted ' || t.attempts || ' times (its worker stopped or lost its lease before it finished); not retried again'`,
        finished_at: sql<Date>`clock_timestamp()`,
        lease_owner: null,
        lease_expires_at: null,
      })
      .where('t.state', '=', sql.lit('running'))
      .where('t.lease_expires_at', '<=', sql<Date>`clock_timestamp()`)
      .where('t.attempts', '>=', maxAttempts)
      .returning(RUN_COLUMNS)
      .execute();
    return rows.map(toRun);
  }

  /** Extends the worker's lease by `leaseSeconds` from now; false when it is no longer the worker's (lost, or the run was cancelled). */
  heartbeat(lease: RunLease, leaseSeconds: number): Promise<boolean> {
    return this.record(lease, {}, leaseSeconds);
  }

  /** Writes what the run found so far and extends the lease; false when the lease is no longer the worker's. */
  async record(lease: RunLease, findings: RunFindings, leaseSeconds: number): Promise<boolean> {
    const { numUpdatedRows } = await this.db
      .updateTable('training_runs as t')
      .set({
        lease_expires_at: leaseUntil(leaseSeconds),
        progress: json(findings.progress),
        dataset: json(findings.dataset),
        features: json(findings.features),
        challenger: json(findings.challenger),
        champion: json(findings.champion),
      })
      .where(heldBy(lease))
      .executeTakeFirstOrThrow();
    return numUpdatedRows === 1n;
  }

  /** Ends the run as the worker found it; false when the lease was no longer the worker's, and nothing was written. */
  async finish(lease: RunLease, outcome: RunOutcome): Promise<boolean> {
    const result =
      outcome.state === 'succeeded'
        ? { candidate_version: outcome.candidateVersion, decision: outcome.decision, rollout_id: outcome.rolloutId }
        : { error: outcome.error };
    const { numUpdatedRows } = await this.db
      .updateTable('training_runs as t')
      .set({ ...result, state: sql.lit(outcome.state), finished_at: sql<Date>`clock_timestamp()`, lease_owner: null, lease_expires_at: null })
      .where(heldBy(lease))
      .executeTakeFirstOrThrow();
    return numUpdatedRows === 1n;
  }

  /**
   * Hands the run back to the queue without counting the attempt: its worker
   * is shutting down, not failing, so another replica starts it again at once.
   */
  async release(lease: RunLease): Promise<boolean> {
    const { numUpdatedRows } = await this.db
      .updateTable('training_runs as t')
      .set({ state: sql.lit('queued'), attempts: sql<number>`t.attempts - 1`, lease_owner: null, lease_expires_at: null, progress: null })
      .where(heldBy(lease))
      .executeTakeFirstOrThrow();
    return numUpdatedRows === 1n;
  }

  /**
   * Cancels a queued or running run; undefined when it is not either. A
   * running run's worker finds its lease gone at its next write and stops.
   */
  async cancel(id: string): Promise<TrainingRun | undefined> {
    const row = await this.db
      .updateTable('training_runs as t')
      .set({ state: sql.lit('cancelled'), finished_at: sql<Date>`clock_timestamp()`, lease_owner: null, lease_expires_at: null })
      .where('t.id', '=', id)
      .where('t.state', 'in', [sql.lit('queued'), sql.lit('running')])
      .returning(RUN_COLUMNS)
      .executeTakeFirst();
    return row && toRun(row);
  }
}

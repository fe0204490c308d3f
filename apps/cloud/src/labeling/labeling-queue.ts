import { DomainError } from '@loupe/service';
import type pg from 'pg';
import { GroupCommit } from '@loupe/service';
import { preparedStatement } from '../database/prepared-statement';
import { inTransaction } from '../database/transaction';
import { answeredTodayBy, recordAnswersAndClaim, type Answer, type GivenAnswer, type NextClaim, type RecordedAnswer, type SettledState } from './answer-commit';
import { queuePriority } from './queue-priority';
import { CachedCount } from './cached-count';
import {
  CLAIMED_COLUMNS,
  claimBestRow,
  heldBy,
  LeaseLostError,
  leaseTo,
  TaskLeases,
  toClaimedSample,
  type ClaimedRow,
  type LabelerClaim,
  type LeaseHolder,
} from './task-leases';

export { LeaseLostError, type ClaimedSample, type LabelerClaim, type LeaseHolder } from './task-leases';
export type { Answer } from './answer-commit';

/** The labeler already answered this sample (HTTP 409). */
export class AlreadyAnsweredError extends DomainError {
  readonly kind = 'conflict';
  constructor(sampleId: string) {
    super(`sample ${sampleId} already has your answer`);
    this.name = 'AlreadyAnsweredError';
  }
}

/** The caller has no answer on the sample to take back (HTTP 404). */
export class NoAnswerToUndoError extends DomainError {
  readonly kind = 'not_found';
  constructor(sampleId: string) {
    super(`you have no answer on sample ${sampleId} to take back`);
    this.name = 'NoAnswerToUndoError';
  }
}

/** The answer exists but can no longer be taken back; the message says why (HTTP 409). */
export class UndoRefusedError extends DomainError {
  readonly kind = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'UndoRefusedError';
  }
}

/** A stored sample, as the queue needs it to place it. */
export interface IncomingSample {
  id: string;
  modelName: string;
  /** The class the model leaned to: its top-scoring label, or its verdict. */
  predictedClass: string;
  samplerPriority: number;
  reason: string;
}

// Labeler $2 has neither answered nor skipped row t.
const NOT_PASSED_BY_LABELER = `NOT EXISTS (SELECT 1 FROM labels l WHERE l.sample_id = t.sample_id AND l.labeler_id = $2)
  AND NOT EXISTS (SELECT 1 FROM label_skips k WHERE k.sample_id = t.sample_id AND k.labeler_id = $2)`;

// Leases the best open row of project $1 labeler $2 has not passed by, for $3 seconds.
const claimBest = preparedStatement('labeling-claim', claimBestRow('leased', NOT_PASSED_BY_LABELER, `${answeredTodayBy('$2')} AS answered_today`));

// Groups of up to 64 answers, two at a time: enough for two server cores to
// work side by side, and few enough that most answers wait for a group.
const ANSWER_GROUPS = { maxGroup: 64, concurrency: 2 };

/**
 * A project's labeling queue in Postgres. A claim takes the most useful
 * open sample the labeler has not answered or skipped, under a lease: `FOR
 * UPDATE SKIP LOCKED` lets concurrent claims pass each other instead of
 * queueing on one row, and the UPDATE checks the row's state again. Each
 * claim raises the row's fencing token, and every later call must present
 * the current token before its lease runs out.
 */
export class LabelingQueue {
  private readonly leases: TaskLeases;
  private readonly answers: GroupCommit<GivenAnswer, RecordedAnswer | undefined>;
  private readonly depths: CachedCount;
  private classCounts: { at: number; byModel: Map<string, { total: number; byClass: Map<string, number> }> } | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly leaseSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.leases = new TaskLeases(pool, leaseSeconds, now);
    this.answers = new GroupCommit((given) => recordAnswersAndClaim(pool, given, leaseSeconds), ANSWER_GROUPS);
    this.depths = new CachedCount(async (projectId) => {
      const { rows } = await this.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM label_tasks WHERE project_id = $1 AND state IN ('open', 'leased')`,
        [projectId],
      );
      return rows[0]?.n ?? 0;
    }, now);
  }

  /**
   * Queues samples in the project that takes their model's samples, if
   * there is one. Idempotent: a sample already queued stays where it is, so
   * ingest can queue every sample it stores, repeats included.
   */
  async enqueue(samples: IncomingSample[]): Promise<void> {
    if (samples.length === 0) return;
    const counts = await this.labelCounts();
    const priorities = samples.map((sample) => {
      const project = counts.get(sample.modelName);
      return queuePriority({
        samplerPriority: sample.samplerPriority,
        reason: sample.reason,
        labelsOfPredictedClass: project?.byClass.get(sample.predictedClass) ?? 0,
        labelsInProject: project?.total ?? 0,
      });
    });
    await this.pool.query(
      `INSERT INTO label_tasks (sample_id, project_id, priority)
       SELECT v.sample_id, p.id, v.priority
       FROM unnest($1::uuid[], $2::text[], $3::real[]) AS v(sample_id, model_name, priority)
       JOIN projects p ON p.model_name = v.model_name
       ON CONFLICT (sample_id) DO NOTHING`,
      [samples.map((sample) => sample.id), samples.map((sample) => sample.modelName), priorities],
    );
  }

  /** Claims the most useful sample for the labeler, if there is one. */
  async claim(projectId: string, labelerId: string): Promise<LabelerClaim> {
    await this.leases.returnExpired(projectId);
    // A row another claim took between the pick and the update fails the
    // re-check; the next attempt picks another.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.pool.query<ClaimedRow & { answered_today: number }>(claimBest([projectId, labelerId, this.leaseSeconds]));
      const row = rows[0];
      if (row) return { sample: toClaimedSample(row), answeredToday: row.answered_today };
      if (!(await this.hasClaimable(projectId, labelerId))) break;
    }
    return { sample: undefined, answeredToday: await this.answeredToday(labelerId) };
  }

  /** Extends a lease by the lease time from now. */
  heartbeat(holder: LeaseHolder): Promise<Date> {
    return this.leases.heartbeat('leased', holder);
  }

  /**
   * Records the answer and ends the lease: the sample is settled, goes to
   * review on disagreement, or returns to the queue for the next of its K
   * answers. Answers that arrive together are recorded together.
   */
  async submit(holder: LeaseHolder, answer: Answer): Promise<SettledState> {
    return (await this.record({ holder, answer, claimNext: false })).state;
  }

  /**
   * Submits, and claims the labeler's next sample in the same project: one
   * request per answer for the labeler UI. Concurrent labelers' answers and
   * next claims share one transaction (see recordAnswersAndClaim).
   */
  async submitAndClaim(holder: LeaseHolder, answer: Answer): Promise<{ state: SettledState; projectId: string; next: LabelerClaim }> {
    const recorded = await this.record({ holder, answer, claimNext: true });
    await this.leases.returnExpired(recorded.projectId);
    // Nothing claimed with the answer: the queue is empty for this labeler,
    // or the group's rows ran out for them; claim tells which.
    const next = recorded.next ?? (await this.claim(recorded.projectId, holder.labelerId));
    return { state: recorded.state, projectId: recorded.projectId, next };
  }

  private async record(given: GivenAnswer): Promise<RecordedAnswer> {
    const recorded = await this.answers.add(given);
    if (!recorded) throw await this.whyNotSubmitted(given.holder);
    // This process's own answers show in the depth it hands out at once.
    if (recorded.state !== 'open') this.depths.subtract(recorded.projectId, 1);
    return recorded;
  }

  private async whyNotSubmitted(holder: LeaseHolder): Promise<Error> {
    const { rows } = await this.pool.query<{ held: boolean; answered: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM label_tasks t WHERE ${heldBy('leased')}) AS held,
              EXISTS (SELECT 1 FROM labels WHERE sample_id = $1 AND labeler_id = $2) AS answered`,
      [holder.sampleId, holder.labelerId, holder.token],
    );
    return rows[0]?.held && rows[0].answered ? new AlreadyAnsweredError(holder.sampleId) : new LeaseLostError(holder.sampleId);
  }

  /**
   * Takes back the labeler's answer on a sample and leases the sample to
   * them again, so they can answer it anew. Allowed for the lease time after
   * answering, while no one else holds the sample and no reviewer has
   * decided it: after that, others may have built on the answer.
   */
  async undo(labelerId: string, sampleId: string): Promise<NextClaim> {
    const { rows } = await this.pool.query<ClaimedRow & { answered_today: number }>(
      `WITH target AS (
         SELECT t.sample_id FROM label_tasks t
         JOIN labels l ON l.sample_id = t.sample_id AND l.labeler_id = $2
         WHERE t.sample_id = $1 AND t.state IN ('open', 'done', 'review')
           AND l.created_at > now() - make_interval(secs => $3)
           AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.sample_id = t.sample_id)
         FOR UPDATE OF t
       ), taken_back AS (
         DELETE FROM labels l USING target WHERE l.sample_id = target.sample_id AND l.labeler_id = $2
         RETURNING l.sample_id, l.created_at::date AS day
       ), uncounted AS (
         UPDATE labeler_days d SET answers = d.answers - 1 FROM taken_back WHERE d.labeler_id = $2 AND d.day = taken_back.day
       )
       UPDATE label_tasks t SET ${leaseTo('leased')}, answers = t.answers - 1
       FROM taken_back, samples s
       WHERE t.sample_id = taken_back.sample_id AND s.id = t.sample_id
       -- The statement's snapshot still counts the answer it takes back.
       RETURNING ${CLAIMED_COLUMNS}, ${answeredTodayBy('$2')} - (taken_back.day = current_date)::int AS answered_today`,
      [sampleId, labelerId, this.leaseSeconds],
    );
    const row = rows[0];
    if (!row) throw await this.whyNotUndone(labelerId, sampleId);
    return { sample: toClaimedSample(row), answeredToday: row.answered_today };
  }

  private async whyNotUndone(labelerId: string, sampleId: string): Promise<Error> {
    const { rows } = await this.pool.query<{ recent: boolean; state: string; reviewed: boolean }>(
      `SELECT l.created_at > now() - make_interval(secs => $3) AS recent, t.state,
              EXISTS (SELECT 1 FROM reviews r WHERE r.sample_id = $1) AS reviewed
       FROM labels l JOIN label_tasks t ON t.sample_id = l.sample_id
       WHERE l.sample_id = $1 AND l.labeler_id = $2`,
      [sampleId, labelerId, this.leaseSeconds],
    );
    const found = rows[0];
    if (!found) return new NoAnswerToUndoError(sampleId);
    if (found.reviewed || found.state === 'reviewing') return new UndoRefusedError('a reviewer has taken this sample up; your answer stays');
    if (!found.recent) return new UndoRefusedError(`an answer can be taken back for ${this.leaseSeconds} s after it is given; this one is older`);
    return new UndoRefusedError('another labeler is answering this sample now; your answer stays');
  }

  /** Gives the sample back without an answer; this labeler is not offered it again. */
  async skip(holder: LeaseHolder): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.leases.release('leased', holder, client);
      await client.query('INSERT INTO label_skips (sample_id, labeler_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [holder.sampleId, holder.labelerId]);
    });
  }

  /** Gives the sample back without an answer, for anyone to claim again (a closed tab, a break). */
  release(holder: LeaseHolder): Promise<void> {
    return this.leases.release('leased', holder);
  }

  /**
   * Samples waiting for an answer in the project, leased ones included.
   * Labelers see it on every claim, so it is counted at most once a second.
   */
  depth(projectId: string): Promise<number> {
    return this.depths.get(projectId);
  }

  /**
   * Answers the labeler gave in the project since midnight, for the queue
   * screen's counter; counted from the labeler's own labels of the day
   * (index labels(labeler_id, created_at)), so undone answers drop out.
   */
  async answeredTodayIn(projectId: string, labelerId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM labels WHERE labeler_id = $1 AND created_at >= current_date AND project_id = $2`,
      [labelerId, projectId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Answers the labeler gave since midnight. */
  async answeredToday(labelerId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT ${answeredTodayBy('$1')} AS n`, [labelerId]);
    return rows[0]?.n ?? 0;
  }

  /**
   * Labels per class per project, for class rarity. Counting every label on
   * each ingest batch would grow with the dataset, so the counts are read at
   * most once a minute: rarity moves slowly.
   */
  private async labelCounts() {
    if (this.classCounts && this.now() - this.classCounts.at < 60_000) return this.classCounts.byModel;
    const { rows } = await this.pool.query<{ model_name: string; answer_key: string; n: number }>(
      `SELECT p.model_name, l.answer_key, count(*)::int AS n
       FROM labels l JOIN projects p ON p.id = l.project_id GROUP BY p.model_name, l.answer_key`,
    );
    const byModel = new Map<string, { total: number; byClass: Map<string, number> }>();
    for (const row of rows) {
      const project = byModel.get(row.model_name) ?? { total: 0, byClass: new Map<string, number>() };
      project.total += row.n;
      project.byClass.set(row.answer_key, row.n);
      byModel.set(row.model_name, project);
    }
    this.classCounts = { at: this.now(), byModel };
    return byModel;
  }

  private async hasClaimable(projectId: string, labelerId: string): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM label_tasks t
       WHERE t.project_id = $1 AND t.state = 'open' AND ${NOT_PASSED_BY_LABELER}
       LIMIT 1`,
      [projectId, labelerId],
    );
    return rows.length > 0;
  }
}

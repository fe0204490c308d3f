import type pg from 'pg';
import { inTransaction } from '../database/transaction';
import { queuePriority } from './queue-priority';
import { CachedCount } from './cached-count';
import {
  CLAIMED_COLUMNS,
  heldBy,
  LeaseLostError,
  leaseTo,
  TaskLeases,
  toClaimedSample,
  type ClaimedRow,
  type ClaimedSample,
  type LeaseHolder,
} from './task-leases';

export { LeaseLostError, type ClaimedSample, type LeaseHolder } from './task-leases';

/** The labeler already answered this sample (HTTP 409). */
export class AlreadyAnsweredError extends Error {
  constructor(sampleId: string) {
    super(`sample ${sampleId} already has your answer`);
    this.name = 'AlreadyAnsweredError';
  }
}

/** The caller has no answer on the sample to take back (HTTP 404). */
export class NoAnswerToUndoError extends Error {
  constructor(sampleId: string) {
    super(`you have no answer on sample ${sampleId} to take back`);
    this.name = 'NoAnswerToUndoError';
  }
}

/** The answer exists but can no longer be taken back; the message says why (HTTP 409). */
export class UndoRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndoRefusedError';
  }
}

export interface Answer {
  /** What consensus compares: the class, or boxes in a canonical form. */
  key: string;
  value: unknown;
  spentMs: number;
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

/** A claim as a labeler sees it: the sample, if any, and their answers since midnight. */
export interface LabelerClaim {
  sample: ClaimedSample | undefined;
  answeredToday: number;
}

// Row t of the project can go to labeler $2: open, and neither answered nor skipped by them.
const offerableIn = (project: string) => `t.project_id = ${project} AND t.state = 'open'
  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.sample_id = t.sample_id AND l.labeler_id = $2)
  AND NOT EXISTS (SELECT 1 FROM label_skips k WHERE k.sample_id = t.sample_id AND k.labeler_id = $2)`;

// Picks the best row offerable in the project; a concurrent claim's row is passed over, not waited for.
const pickNext = (project: string) => `SELECT t.sample_id FROM label_tasks t
  WHERE ${offerableIn(project)}
  ORDER BY t.priority DESC, t.enqueued_at
  LIMIT 1
  FOR UPDATE OF t SKIP LOCKED`;

// Records answer $4 ($5 as given, $6 ms spent) of labeler $2 on sample $1
// under lease token $3, and ends the lease. The vote counts the labels
// already stored plus the one this statement adds, which the statement's
// own snapshot does not show. The CTE `settled` has the outcome.
const SETTLE = `held AS (
    SELECT t.sample_id, t.project_id, p.consensus FROM label_tasks t JOIN projects p ON p.id = t.project_id
    WHERE ${heldBy('leased')} FOR UPDATE OF t
  ), answered AS (
    INSERT INTO labels (sample_id, project_id, labeler_id, answer_key, answer, spent_ms)
    SELECT sample_id, project_id, $2, $4, $5::jsonb, $6 FROM held
    ON CONFLICT (sample_id, labeler_id) DO NOTHING
    RETURNING sample_id, answer_key
  ), votes AS (
    SELECT l.answer_key FROM labels l JOIN answered a ON l.sample_id = a.sample_id
    UNION ALL SELECT answer_key FROM answered
  ), decided AS (
    -- K agreeing answers settle a sample; any disagreement goes to a
    -- reviewer, since more votes would only hide it.
    SELECT CASE WHEN count(DISTINCT answer_key) > 1 THEN 'review'
                WHEN count(*) >= (SELECT consensus FROM held) THEN 'done'
                ELSE 'open' END AS state,
           count(*)::int AS answers
    FROM votes
  ), settled AS (
    UPDATE label_tasks t SET state = d.state, answers = d.answers, lease_holder = NULL, lease_expires_at = NULL
    FROM decided d, answered a
    WHERE t.sample_id = a.sample_id
    RETURNING t.state, t.project_id
  )`;

// The answers a labeler gave since midnight: an index range scan on (labeler_id, created_at).
const answeredTodayBy = (labeler: string) => `(SELECT count(*)::int FROM labels WHERE labeler_id = ${labeler} AND created_at >= date_trunc('day', now()))`;

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
  private readonly depths: CachedCount;
  private classCounts: { at: number; byModel: Map<string, { total: number; byClass: Map<string, number> }> } | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly leaseSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.leases = new TaskLeases(pool, leaseSeconds, now);
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
      const { rows } = await this.pool.query<ClaimedRow & { answered_today: number }>(
        `WITH next AS (${pickNext('$1')})
         UPDATE label_tasks t SET ${leaseTo('leased')}
         FROM next, samples s
         WHERE t.sample_id = next.sample_id AND s.id = t.sample_id AND t.state = 'open'
         RETURNING ${CLAIMED_COLUMNS}, ${answeredTodayBy('$2')} AS answered_today`,
        [projectId, labelerId, this.leaseSeconds],
      );
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
   * Records the answer and ends the lease, in one statement: the sample is
   * settled, goes to review on disagreement, or returns to the queue for the
   * next of its K answers.
   */
  async submit(holder: LeaseHolder, answer: Answer): Promise<'open' | 'review' | 'done'> {
    return (await this.settle(holder, answer)).state;
  }

  /**
   * Submits, and claims the labeler's next sample in the same project: one
   * request per answer for the labeler UI, and one statement, so one round
   * trip and one commit. The snapshot still shows the answered sample as
   * leased, so it is not offered again.
   */
  async submitAndClaim(holder: LeaseHolder, answer: Answer): Promise<{ state: 'open' | 'review' | 'done'; projectId: string; next: LabelerClaim }> {
    const { rows } = await this.pool.query<{ state: 'open' | 'review' | 'done'; project_id: string; answered_today: number } & Partial<ClaimedRow>>(
      `WITH ${SETTLE},
       next AS (${pickNext('(SELECT project_id FROM settled)')}),
       claimed AS (
         UPDATE label_tasks t SET ${leaseTo('leased', { seconds: '$7' })}
         FROM next, samples s
         WHERE t.sample_id = next.sample_id AND s.id = t.sample_id AND t.state = 'open'
         RETURNING ${CLAIMED_COLUMNS}
       )
       SELECT settled.state, settled.project_id, claimed.*, ${answeredTodayBy('$2')} + 1 AS answered_today
       FROM settled LEFT JOIN claimed ON true`,
      [...this.settleParameters(holder, answer), this.leaseSeconds],
    );
    const row = rows[0];
    if (!row) throw await this.whyNotSubmitted(holder);
    this.settled(row.state, row.project_id);
    await this.leases.returnExpired(row.project_id);
    // Nothing claimed: the queue is empty for this labeler, or its best row
    // went to a concurrent claim between pick and update; claim tells which.
    const next = row.sample_id ? { sample: toClaimedSample(row as ClaimedRow), answeredToday: row.answered_today } : await this.claim(row.project_id, holder.labelerId);
    return { state: row.state, projectId: row.project_id, next };
  }

  private async settle(holder: LeaseHolder, answer: Answer): Promise<{ state: 'open' | 'review' | 'done'; projectId: string }> {
    const { rows } = await this.pool.query<{ state: 'open' | 'review' | 'done'; project_id: string }>(
      `WITH ${SETTLE} SELECT state, project_id FROM settled`,
      this.settleParameters(holder, answer),
    );
    const settled = rows[0];
    if (!settled) throw await this.whyNotSubmitted(holder);
    this.settled(settled.state, settled.project_id);
    return { state: settled.state, projectId: settled.project_id };
  }

  private settleParameters(holder: LeaseHolder, answer: Answer): unknown[] {
    return [holder.sampleId, holder.labelerId, holder.token, answer.key, JSON.stringify(answer.value), Math.round(answer.spentMs)];
  }

  /** This process's own answers show in the depth it hands out at once. */
  private settled(state: 'open' | 'review' | 'done', projectId: string): void {
    if (state !== 'open') this.depths.subtract(projectId, 1);
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
  async undo(labelerId: string, sampleId: string): Promise<LabelerClaim & { sample: ClaimedSample }> {
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
         RETURNING l.sample_id
       )
       UPDATE label_tasks t SET ${leaseTo('leased')}, answers = t.answers - 1
       FROM taken_back, samples s
       WHERE t.sample_id = taken_back.sample_id AND s.id = t.sample_id
       -- The statement's snapshot still holds the answer it takes back.
       RETURNING ${CLAIMED_COLUMNS}, ${answeredTodayBy('$2')} - 1 AS answered_today`,
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
       WHERE ${offerableIn('$1')}
       LIMIT 1`,
      [projectId, labelerId],
    );
    return rows.length > 0;
  }
}

import type pg from 'pg';
import { queuePriority } from './queue-priority';

/** The caller's lease ran out or was never theirs: another labeler may hold the sample now (HTTP 409). */
export class LeaseLostError extends Error {
  constructor(sampleId: string) {
    super(`the lease on sample ${sampleId} has expired or belongs to someone else; claim the next sample`);
    this.name = 'LeaseLostError';
  }
}

/** The labeler already answered this sample (HTTP 409). */
export class AlreadyAnsweredError extends Error {
  constructor(sampleId: string) {
    super(`sample ${sampleId} already has your answer`);
    this.name = 'AlreadyAnsweredError';
  }
}

export interface Lease {
  sampleId: string;
  /** The fencing token: pass it back with heartbeat, submit, skip and release. */
  token: string;
  expiresAt: Date;
}

export interface ClaimedSample extends Lease {
  imageKey: string;
  stationId: string;
  capturedAt: Date;
  modelVersion: string;
  verdict: string;
  prediction: unknown;
  reason: string;
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

export interface LeaseHolder {
  sampleId: string;
  labelerId: string;
  token: string;
}

// A lease that ran out is turned back to 'open' by the next claim in its
// project (at most once a second per process), so claims only ever look at
// open rows, in the order of the (project_id, state, priority, enqueued_at)
// index: an OR with expired leases here would cost a scan of the project.
const SWEEP_INTERVAL_MS = 1_000;

// Row t can go to labeler $2: open, and neither answered nor skipped by them.
const OFFERABLE = `t.project_id = $1 AND t.state = 'open'
  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.sample_id = t.sample_id AND l.labeler_id = $2)
  AND NOT EXISTS (SELECT 1 FROM label_skips k WHERE k.sample_id = t.sample_id AND k.labeler_id = $2)`;

// The caller's lease on row t is live: theirs, with the current token, not run out.
const HELD_BY = `t.sample_id = $1 AND t.state = 'leased' AND t.lease_holder = $2 AND t.lease_token = $3::bigint AND t.lease_expires_at > now()`;

/**
 * A project's labeling queue in Postgres. A claim takes the most useful
 * open sample the labeler has not answered or skipped, under a lease: `FOR
 * UPDATE SKIP LOCKED` lets concurrent claims pass each other instead of
 * queueing on one row, and the UPDATE checks the row's state again. Each claim raises the
 * row's fencing token, and every later call must present the current token
 * before its lease runs out.
 */
export class LabelingQueue {
  private readonly lastSweep = new Map<string, number>();
  private readonly depths = new Map<string, { at: number; depth: number }>();
  private classCounts: { at: number; byModel: Map<string, { total: number; byClass: Map<string, number> }> } | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly leaseSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

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

  async claim(projectId: string, labelerId: string): Promise<ClaimedSample | undefined> {
    await this.returnExpiredLeases(projectId);
    // A row another claim took between the pick and the update fails the
    // re-check; the next attempt picks another.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.pool.query<ClaimRow>(
        `WITH next AS (
           SELECT t.sample_id FROM label_tasks t
           WHERE ${OFFERABLE}
           ORDER BY t.priority DESC, t.enqueued_at
           LIMIT 1
           FOR UPDATE OF t SKIP LOCKED
         )
         UPDATE label_tasks t
         SET state = 'leased', lease_holder = $2, lease_token = t.lease_token + 1,
             lease_expires_at = clock_timestamp() + make_interval(secs => $3)
         FROM next, samples s
         WHERE t.sample_id = next.sample_id AND s.id = t.sample_id AND t.state = 'open'
         RETURNING t.sample_id, t.lease_token::text AS token, t.lease_expires_at, s.image_key, s.station_id,
                   s.captured_at, s.model_version, s.verdict, s.prediction, s.reason`,
        [projectId, labelerId, this.leaseSeconds],
      );
      const row = rows[0];
      if (row) return toClaimedSample(row);
      if (!(await this.hasClaimable(projectId, labelerId))) return undefined;
    }
    return undefined;
  }

  /** Extends a lease by the lease time from now. */
  async heartbeat(holder: LeaseHolder): Promise<Date> {
    const { rows } = await this.pool.query<{ lease_expires_at: Date }>(
      `UPDATE label_tasks t SET lease_expires_at = clock_timestamp() + make_interval(secs => $4)
       WHERE ${HELD_BY} RETURNING t.lease_expires_at`,
      [holder.sampleId, holder.labelerId, holder.token, this.leaseSeconds],
    );
    if (!rows[0]) throw new LeaseLostError(holder.sampleId);
    return rows[0].lease_expires_at;
  }

  /**
   * Records the answer and ends the lease, in one transaction: the sample is
   * settled, goes to review on disagreement, or returns to the queue for the
   * next of its K answers.
   */
  async submit(holder: LeaseHolder, answer: Answer): Promise<'open' | 'review' | 'done'> {
    // One statement, so one round trip and one commit: the vote counts the
    // labels already stored plus the one this statement adds, which the
    // statement's own snapshot does not show.
    const { rows } = await this.pool.query<{ state: 'open' | 'review' | 'done'; project_id: string }>(
      `WITH held AS (
         SELECT t.sample_id, t.project_id, p.consensus FROM label_tasks t JOIN projects p ON p.id = t.project_id
         WHERE ${HELD_BY} FOR UPDATE OF t
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
       )
       UPDATE label_tasks t SET state = d.state, answers = d.answers, lease_holder = NULL, lease_expires_at = NULL
       FROM decided d, answered a
       WHERE t.sample_id = a.sample_id
       RETURNING t.state, t.project_id`,
      [holder.sampleId, holder.labelerId, holder.token, answer.key, JSON.stringify(answer.value), Math.round(answer.spentMs)],
    );
    const settled = rows[0];
    if (!settled) throw await this.whyNotSubmitted(holder);
    // This process's own answers show in the count it hands out at once.
    const counted = this.depths.get(settled.project_id);
    if (counted && settled.state !== 'open') counted.depth = Math.max(0, counted.depth - 1);
    return settled.state;
  }

  private async whyNotSubmitted(holder: LeaseHolder): Promise<Error> {
    const { rows } = await this.pool.query<{ held: boolean; answered: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM label_tasks t WHERE ${HELD_BY}) AS held,
              EXISTS (SELECT 1 FROM labels WHERE sample_id = $1 AND labeler_id = $2) AS answered`,
      [holder.sampleId, holder.labelerId, holder.token],
    );
    return rows[0]?.held && rows[0].answered ? new AlreadyAnsweredError(holder.sampleId) : new LeaseLostError(holder.sampleId);
  }

  /** Gives the sample back without an answer; this labeler is not offered it again. */
  async skip(holder: LeaseHolder): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.endLease(client, holder);
      await client.query('INSERT INTO label_skips (sample_id, labeler_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        holder.sampleId,
        holder.labelerId,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  /** Gives the sample back without an answer, for anyone to claim again (a closed tab, a break). */
  async release(holder: LeaseHolder): Promise<void> {
    await this.endLease(this.pool, holder);
  }

  /**
   * Samples waiting for an answer in the project, leased ones included. A
   * count over a big queue costs more than a claim, and labelers see it on
   * every claim, so each process counts a project at most once a second
   * (and takes away the samples its own answers settle meanwhile).
   */
  async depth(projectId: string): Promise<number> {
    const cached = this.depths.get(projectId);
    if (cached && this.now() - cached.at < SWEEP_INTERVAL_MS) return cached.depth;
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM label_tasks WHERE project_id = $1 AND state IN ('open', 'leased')`,
      [projectId],
    );
    const depth = rows[0]?.n ?? 0;
    this.depths.set(projectId, { at: this.now(), depth });
    return depth;
  }

  /** Answers the labeler gave since midnight. */
  async answeredToday(labelerId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM labels WHERE labeler_id = $1 AND created_at >= date_trunc('day', now())`,
      [labelerId],
    );
    return rows[0]?.n ?? 0;
  }

  private async endLease(db: Pick<pg.Pool, 'query'>, holder: LeaseHolder): Promise<void> {
    const { rowCount } = await db.query(
      `UPDATE label_tasks t SET state = 'open', lease_holder = NULL, lease_expires_at = NULL WHERE ${HELD_BY}`,
      [holder.sampleId, holder.labelerId, holder.token],
    );
    if (rowCount !== 1) throw new LeaseLostError(holder.sampleId);
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

  /** Opens the project's leases that ran out; skipped if this process did so less than a second ago. */
  private async returnExpiredLeases(projectId: string): Promise<void> {
    const now = this.now();
    if (now - (this.lastSweep.get(projectId) ?? 0) < SWEEP_INTERVAL_MS) return;
    this.lastSweep.set(projectId, now);
    await this.pool.query(
      `UPDATE label_tasks SET state = 'open', lease_holder = NULL, lease_expires_at = NULL
       WHERE project_id = $1 AND state = 'leased' AND lease_expires_at <= now()`,
      [projectId],
    );
  }

  private async hasClaimable(projectId: string, labelerId: string): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM label_tasks t
       WHERE ${OFFERABLE}
       LIMIT 1`,
      [projectId, labelerId],
    );
    return rows.length > 0;
  }
}

interface ClaimRow {
  sample_id: string;
  token: string;
  lease_expires_at: Date;
  image_key: string;
  station_id: string;
  captured_at: Date;
  model_version: string;
  verdict: string;
  prediction: unknown;
  reason: string;
}

function toClaimedSample(row: ClaimRow): ClaimedSample {
  return {
    sampleId: row.sample_id,
    token: row.token,
    expiresAt: row.lease_expires_at,
    imageKey: row.image_key,
    stationId: row.station_id,
    capturedAt: row.captured_at,
    modelVersion: row.model_version,
    verdict: row.verdict,
    prediction: row.prediction,
    reason: row.reason,
  };
}

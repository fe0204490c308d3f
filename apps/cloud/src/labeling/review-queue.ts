import type { ReviewDto } from '@loupe/api-contracts';
import type pg from 'pg';
import type { Answer } from './labeling-queue';
import { CachedCount } from './cached-count';
import {
  claimBestRow,
  heldBy,
  LeaseLostError,
  TaskLeases,
  toClaimedSample,
  type ClaimedRow,
  type ClaimedSample,
  type LeaseHolder,
} from './task-leases';

/** One labeler's answer, as the reviewer sees it. */
export interface GivenAnswer {
  labeler: string;
  answer: Pick<ReviewDto['answers'][number], 'className' | 'boxes'>;
  spentMs: number;
}

export interface ClaimedReview extends ClaimedSample {
  answers: GivenAnswer[];
}

/**
 * The samples labelers disagreed on, for reviewers. A reviewer claims one
 * under a lease, as labelers do, and decides it: the decision is the
 * sample's label from then on.
 */
export class ReviewQueue {
  private readonly leases: TaskLeases;
  private readonly depths: CachedCount;

  constructor(
    private readonly pool: pg.Pool,
    private readonly leaseSeconds: number,
    now: () => number = Date.now,
  ) {
    this.leases = new TaskLeases(pool, leaseSeconds, now);
    this.depths = new CachedCount(async (projectId) => {
      const { rows } = await this.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM label_tasks WHERE project_id = $1 AND state IN ('review', 'reviewing')`,
        [projectId],
      );
      return rows[0]?.n ?? 0;
    }, now);
  }

  /** The oldest most useful disagreement no one is reviewing, with the answers given, or undefined. */
  async claim(projectId: string, reviewerId: string): Promise<ClaimedReview | undefined> {
    await this.leases.returnExpired(projectId);
    const { rows } = await this.pool.query<ClaimedRow & { answers: GivenAnswer[] }>(
      claimBestRow(
        'reviewing',
        'true',
        `(SELECT json_agg(json_build_object('labeler', u.name, 'answer', l.answer, 'spentMs', l.spent_ms) ORDER BY l.id)
          FROM labels l JOIN users u ON u.id = l.labeler_id WHERE l.sample_id = t.sample_id) AS answers`,
      ),
      [projectId, reviewerId, this.leaseSeconds],
    );
    const row = rows[0];
    return row && { ...toClaimedSample(row), answers: row.answers ?? [] };
  }

  heartbeat(holder: LeaseHolder): Promise<Date> {
    return this.leases.heartbeat('reviewing', holder);
  }

  release(holder: LeaseHolder): Promise<void> {
    return this.leases.release('reviewing', holder);
  }

  /** Records the reviewer's answer as the sample's label and settles it, in one statement. */
  async decide(holder: LeaseHolder, answer: Omit<Answer, 'spentMs'>): Promise<'done'> {
    const { rows } = await this.pool.query<{ project_id: string }>(
      `WITH held AS (
         SELECT t.sample_id, t.project_id FROM label_tasks t WHERE ${heldBy('reviewing')} FOR UPDATE OF t
       ), decided AS (
         INSERT INTO reviews (sample_id, project_id, reviewer_id, answer_key, answer)
         SELECT sample_id, project_id, $2, $4, $5::jsonb FROM held
         ON CONFLICT (sample_id) DO NOTHING
         RETURNING sample_id
       )
       UPDATE label_tasks t SET state = 'done', lease_holder = NULL, lease_expires_at = NULL
       FROM decided d WHERE t.sample_id = d.sample_id
       RETURNING t.project_id`,
      [holder.sampleId, holder.labelerId, holder.token, answer.key, JSON.stringify(answer.value)],
    );
    if (!rows[0]) throw new LeaseLostError(holder.sampleId);
    this.depths.subtract(rows[0].project_id, 1);
    return 'done';
  }

  /** Disagreements waiting in the project, claimed ones included; counted at most once a second. */
  depth(projectId: string): Promise<number> {
    return this.depths.get(projectId);
  }
}

import { DomainError } from '@loupe/service';
import type pg from 'pg';

/** The caller's lease ran out or was never theirs: another person may hold the sample now (HTTP 409). */
export class LeaseLostError extends DomainError {
  readonly kind = 'conflict';
  constructor(sampleId: string) {
    super(`the lease on sample ${sampleId} has expired or belongs to someone else; claim the next sample`);
    this.name = 'LeaseLostError';
  }
}

/**
 * A task under a lease: 'leased' while a labeler answers it, 'reviewing'
 * while a reviewer decides a disagreement. A lease that ends without an
 * answer puts the task back where it was claimed from.
 */
export type LeasedState = 'leased' | 'reviewing';
const CLAIMED_FROM: Record<LeasedState, 'open' | 'review'> = { leased: 'open', reviewing: 'review' };

export interface LeaseHolder {
  sampleId: string;
  /** The labeler or reviewer. */
  labelerId: string;
  /** The fencing token the claim returned. */
  token: string;
}

/** The caller's lease on row t is live: theirs ($1 sample, $2 holder), with the current token ($3), not run out. */
export function heldBy(state: LeasedState): string {
  return `t.sample_id = $1 AND t.state = '${state}' AND t.lease_holder = $2 AND t.lease_token = $3::bigint AND t.lease_expires_at > now()`;
}

/**
 * Starts a lease on row t for the holder, for the given seconds (both SQL
 * parameters); the claim's new token fences off the previous holder.
 */
export function leaseTo(state: LeasedState, { holder = '$2', seconds = '$3' } = {}): string {
  return `state = '${state}', lease_holder = ${holder}, lease_token = t.lease_token + 1, lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds})`;
}

/**
 * Leases the best row of project $1 waiting in the state `state` is claimed
 * from, that `offerable` (more conditions on row t) allows, to holder $2 for
 * $3 seconds. A row a concurrent claim holds is passed over, not waited for,
 * and the UPDATE checks the row's state again. Returns CLAIMED_COLUMNS and
 * `returning` (more columns over t).
 */
export function claimBestRow(state: LeasedState, offerable: string, returning: string): string {
  return `WITH next AS (
     SELECT t.sample_id FROM label_tasks t
     WHERE t.project_id = $1 AND t.state = '${CLAIMED_FROM[state]}' AND ${offerable}
     ORDER BY t.priority DESC, t.enqueued_at
     LIMIT 1
     FOR UPDATE OF t SKIP LOCKED
   )
   UPDATE label_tasks t SET ${leaseTo(state)}
   FROM next, samples s
   WHERE t.sample_id = next.sample_id AND s.id = t.sample_id AND t.state = '${CLAIMED_FROM[state]}'
   RETURNING ${CLAIMED_COLUMNS}, ${returning}`;
}

/** What a claim returns about task t and its sample s. */
export const CLAIMED_COLUMNS = `t.sample_id, t.lease_token::text AS token, t.lease_expires_at, s.image_key, s.station_id,
  s.captured_at, s.model_version, s.verdict, s.prediction, s.reason`;

/** A sample as labeling shows it, to a labeler or in an export: its image and what the model said of it. */
export interface SampleView {
  sampleId: string;
  imageKey: string;
  stationId: string;
  capturedAt: Date;
  modelVersion: string;
  verdict: string;
  prediction: unknown;
}

export interface ClaimedSample extends SampleView {
  /** The fencing token: pass it back with every call on this lease. */
  token: string;
  expiresAt: Date;
  reason: string;
}

/** A claim as a labeler sees it: the sample, if any, and their answers since midnight. */
export interface LabelerClaim {
  sample: ClaimedSample | undefined;
  answeredToday: number;
}

export interface ClaimedRow {
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

export function toClaimedSample(row: ClaimedRow): ClaimedSample {
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

// A lease that ran out is turned back by the next claim in its project, at
// most once a second per process, so claims only ever look at unleased rows
// in index order: an OR with expired leases in the claim would cost a scan.
const SWEEP_INTERVAL_MS = 1_000;

/** The lease calls labelers and reviewers share: heartbeat, release, and returning leases that ran out. */
export class TaskLeases {
  private readonly lastSweep = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    readonly leaseSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Extends a lease by the lease time from now. */
  async heartbeat(state: LeasedState, holder: LeaseHolder): Promise<Date> {
    const { rows } = await this.pool.query<{ lease_expires_at: Date }>(
      `UPDATE label_tasks t SET lease_expires_at = clock_timestamp() + make_interval(secs => $4)
       WHERE ${heldBy(state)} RETURNING t.lease_expires_at`,
      [holder.sampleId, holder.labelerId, holder.token, this.leaseSeconds],
    );
    if (!rows[0]) throw new LeaseLostError(holder.sampleId);
    return rows[0].lease_expires_at;
  }

  /** Ends a lease without an answer: the task goes back where it was claimed from. */
  async release(state: LeasedState, holder: LeaseHolder, db: Pick<pg.Pool, 'query'> = this.pool): Promise<void> {
    const { rowCount } = await db.query(
      `UPDATE label_tasks t SET state = '${CLAIMED_FROM[state]}', lease_holder = NULL, lease_expires_at = NULL WHERE ${heldBy(state)}`,
      [holder.sampleId, holder.labelerId, holder.token],
    );
    if (rowCount !== 1) throw new LeaseLostError(holder.sampleId);
  }

  /** Returns the project's leases that ran out; skipped if this process did so less than a second ago. */
  async returnExpired(projectId: string): Promise<void> {
    const now = this.now();
    if (now - (this.lastSweep.get(projectId) ?? 0) < SWEEP_INTERVAL_MS) return;
    this.lastSweep.set(projectId, now);
    await this.pool.query(
      `UPDATE label_tasks SET state = CASE state WHEN 'leased' THEN 'open' ELSE 'review' END, lease_holder = NULL, lease_expires_at = NULL
       WHERE project_id = $1 AND state IN ('leased', 'reviewing') AND lease_expires_at <= now()`,
      [projectId],
    );
  }
}

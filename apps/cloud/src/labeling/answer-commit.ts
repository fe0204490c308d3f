import type pg from 'pg';
import { inTransaction } from '../database/transaction';
import { CLAIMED_COLUMNS, leaseTo, toClaimedSample, type ClaimedRow, type ClaimedSample, type LabelerClaim, type LeaseHolder } from './task-leases';

export interface Answer {
  /** What consensus compares: the class, or boxes in a canonical form. */
  key: string;
  value: unknown;
  spentMs: number;
}

export type SettledState = 'open' | 'review' | 'done';

/** An answer to record, and whether its labeler wants the next sample claimed with it. */
export interface GivenAnswer {
  holder: LeaseHolder;
  answer: Answer;
  claimNext: boolean;
}

/** A claim that found a sample. */
export type NextClaim = LabelerClaim & { sample: ClaimedSample };

/** A recorded answer: where its sample stands now, and the labeler's next sample if one was claimed. */
export interface RecordedAnswer {
  state: SettledState;
  projectId: string;
  next?: NextClaim;
}

/** The answers a labeler gave today, as the statement's snapshot has them (SQL, for a labeler id expression). */
export const answeredTodayBy = (labeler: string) =>
  `COALESCE((SELECT answers FROM labeler_days WHERE labeler_id = ${labeler} AND day = current_date), 0)`;

// The statements of a group are not prepared: their plans must follow the
// tables as they grow (a plan cached while labels was empty scans it), and
// planning is paid once per group, not once per answer.

// Records answers $4 ($5 as given, $6 ms spent) of labelers $2 on samples $1
// under lease tokens $3, and ends their leases; each row returned names its
// answer by position (from 1). Tasks are found by sample id alone, so the
// lookup cannot turn into a scan of every leased task. A task's count of
// answers says whether there are earlier ones to compare with, so a first
// answer, the common case, reads no labels. Locks are taken in sample order,
// so two groups answering the same samples wait instead of deadlocking.
const RECORD_ANSWERS = `WITH given AS (
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::jsonb[], $6::int[]) WITH ORDINALITY
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
     -- K agreeing answers settle a sample; any disagreement goes to a
     -- reviewer, since more votes would only hide it. The statement's
     -- snapshot holds the earlier answers, not the one it adds.
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
   RETURNING d.position, t.state, t.project_id`;

// The best open rows of project $1, with which of the labelers $2 answered
// or skipped each; rows other claims hold are passed over, not waited for.
// Statements earlier in the transaction count: an answer just recorded
// shows, so its labeler is not handed the sample again.
const OFFERABLE_ROWS = `SELECT t.sample_id, ARRAY(
       SELECT l.labeler_id FROM labels l WHERE l.sample_id = t.sample_id AND l.labeler_id = ANY($2::uuid[])
       UNION ALL
       SELECT k.labeler_id FROM label_skips k WHERE k.sample_id = t.sample_id AND k.labeler_id = ANY($2::uuid[])
     )::text[] AS passed_by
   FROM label_tasks t
   WHERE t.project_id = $1 AND t.state = 'open'
   ORDER BY t.priority DESC, t.enqueued_at
   LIMIT $3
   FOR UPDATE OF t SKIP LOCKED`;

// Leases samples $1 to labelers $2 for $3 seconds. The rows are locked by
// this transaction's OFFERABLE_ROWS, so they are still open. The answers
// today include those this transaction recorded.
const LEASE_ROWS = `UPDATE label_tasks t SET ${leaseTo('leased', { holder: 'a.labeler_id', seconds: '$3' })}
   FROM unnest($1::uuid[], $2::uuid[]) AS a(sample_id, labeler_id), samples s
   WHERE t.sample_id = a.sample_id AND s.id = t.sample_id
   RETURNING ${CLAIMED_COLUMNS}, ${answeredTodayBy('a.labeler_id')} AS answered_today`;

/**
 * Records a group of answers and claims each labeler who asked for it their
 * next sample, in one transaction: the labelers waiting at once share its
 * statements and its commit. Each labeler gets the most useful open sample
 * they have neither answered nor skipped, in the order their answers came.
 *
 * One result per answer, in order: undefined when the answer was not
 * recorded (the lease was lost, or the same call came twice in the group),
 * and `next` missing when no sample was claimed for the labeler here.
 */
export function recordAnswersAndClaim(pool: pg.Pool, given: GivenAnswer[], leaseSeconds: number): Promise<(RecordedAnswer | undefined)[]> {
  // The same call twice in a group is recorded once; the repeat goes
  // unrecorded, as it would in a later group. Calls of different holders
  // on one sample all go in: the lease check keeps the current one.
  const firstOf = new Map<string, number>();
  given.forEach(({ holder }, index) => {
    const call = `${holder.sampleId.toLowerCase()}/${holder.labelerId.toLowerCase()}/${holder.token}`;
    if (!firstOf.has(call)) firstOf.set(call, index);
  });
  const sent = [...firstOf.values()];
  const recorded = sent.map((index) => given[index]!);
  return inTransaction(pool, async (client) => {
    const { rows: settled } = await client.query<{ position: string; state: SettledState; project_id: string }>(
      RECORD_ANSWERS,
      [
        recorded.map(({ holder }) => holder.sampleId),
        recorded.map(({ holder }) => holder.labelerId),
        recorded.map(({ holder }) => holder.token),
        recorded.map(({ answer }) => answer.key),
        recorded.map(({ answer }) => JSON.stringify(answer.value)),
        recorded.map(({ answer }) => Math.round(answer.spentMs)),
      ],
    );
    const outcomes = new Map<number, RecordedAnswer>();
    for (const row of settled) outcomes.set(sent[Number(row.position) - 1]!, { state: row.state, projectId: row.project_id });
    const claims = await claimNext(
      client,
      [...outcomes].filter(([index]) => given[index]!.claimNext),
      given,
      leaseSeconds,
    );
    for (const [index, next] of claims) outcomes.get(index)!.next = next;
    return given.map((_, index) => outcomes.get(index));
  });
}

/** Claims, for each recorded answer that asked, the next sample of its project for its labeler. */
async function claimNext(
  client: pg.PoolClient,
  wanting: [number, RecordedAnswer][],
  given: GivenAnswer[],
  leaseSeconds: number,
): Promise<Map<number, NextClaim>> {
  const assigned: { index: number; sampleId: string; labelerId: string }[] = [];
  for (const projectId of new Set(wanting.map(([, outcome]) => outcome.projectId))) {
    const inProject = wanting.filter(([, outcome]) => outcome.projectId === projectId).map(([index]) => index);
    const labelers = inProject.map((index) => given[index]!.holder.labelerId.toLowerCase());
    // Twice as many rows as labelers, so one who answered or skipped a few
    // of the best still finds one here.
    const { rows } = await client.query<{ sample_id: string; passed_by: string[] }>(OFFERABLE_ROWS, [projectId, labelers, 2 * labelers.length]);
    const taken = new Set<string>();
    inProject.forEach((index, position) => {
      const labelerId = labelers[position]!;
      const row = rows.find((candidate) => !taken.has(candidate.sample_id) && !candidate.passed_by.includes(labelerId));
      if (!row) return;
      taken.add(row.sample_id);
      assigned.push({ index, sampleId: row.sample_id, labelerId });
    });
  }
  const claims = new Map<number, NextClaim>();
  if (assigned.length === 0) return claims;
  const { rows } = await client.query<ClaimedRow & { answered_today: number }>(LEASE_ROWS, [
    assigned.map((one) => one.sampleId),
    assigned.map((one) => one.labelerId),
    leaseSeconds,
  ]);
  const indexOf = new Map(assigned.map((one) => [one.sampleId, one.index]));
  for (const row of rows) claims.set(indexOf.get(row.sample_id)!, { sample: toClaimedSample(row), answeredToday: row.answered_today });
  return claims;
}

import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { enqueueFixture, seedLabelingProject } from '../testing/labeling-fixture';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { AlreadyAnsweredError, LabelingQueue, LeaseLostError, type ClaimedSample } from './labeling-queue';

// Short, so abandoned leases run out while the labelers still work.
const LEASE_SECONDS = 1;

describe('LabelingQueue on Postgres, under concurrent labelers', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let queue: LabelingQueue;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    queue = new LabelingQueue(new LabelTaskRepository(database), new LabelAnswerRepository(database), { leaseSeconds: LEASE_SECONDS });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const sql = <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) =>
    database.pool.query<T>(text, values).then((result) => result.rows);
  const claimNext = async (projectId: string, labelerId: string) => (await queue.claim(projectId, labelerId)).sample;
  const holder = (claim: ClaimedSample, labelerId: string) => ({ sampleId: claim.sampleId, labelerId, token: claim.token });
  const answer = (key: string) => ({ key, value: { class: key }, spentMs: 900 });
  async function project({ samples, labelers }: { samples: number; labelers: number }) {
    const fixture = await seedLabelingProject(database, { samples, users: labelers, queued: false });
    await enqueueFixture(queue, fixture);
    return { id: fixture.projectId, labelers: fixture.userIds };
  }

  it(
    'keeps its promises under 32 concurrent labelers who claim, submit (with and without claimNext), skip, release and abandon at random',
    async () => {
      const SAMPLES = Number(process.env.QUEUE_TEST_SAMPLES ?? 2_000);
      const { id, labelers } = await project({ samples: SAMPLES, labelers: 32 });
      const random = seededRandom(20261122);
      const leases = new Map<string, { token: bigint; startsAt: number; endsAt: number }[]>();
      const answered = new Set<string>();
      const staleSubmits: Promise<void>[] = [];
      let staleRejected = 0;
      let staleAccepted = 0;
      let doubleAnswers = 0;

      const granted = (claim: ClaimedSample) => {
        const endsAt = claim.expiresAt.getTime();
        const lease = { token: BigInt(claim.token), startsAt: endsAt - LEASE_SECONDS * 1000, endsAt };
        leases.set(claim.sampleId, [...(leases.get(claim.sampleId) ?? []), lease]);
        return lease;
      };
      /** Leases of one sample, in token order, that overlap in time. */
      const overlapping = () =>
        [...leases].filter(([, granted]) =>
          [...granted]
            .sort((a, b) => (a.token < b.token ? -1 : 1))
            .some((lease, index, sorted) => index > 0 && sorted[index - 1]!.endsAt > lease.startsAt),
        );

      async function labeler(labelerId: string) {
        // Half the answers go in with claimNext, as the labeler UI sends them.
        let handedOut: ClaimedSample | undefined;
        for (;;) {
          const claim = handedOut ?? (await claimNext(id, labelerId));
          handedOut = undefined;
          if (!claim) {
            // Leases abandoned by others come back when they run out.
            const [leased] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM label_tasks WHERE project_id = $1 AND state = 'leased'`, [id]);
            if (leased?.n === 0) return;
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          const lease = granted(claim);
          const move = random();
          const mine = holder(claim, labelerId);
          // A lease ends when the call ending it commits; the moment of the
          // call is a safe lower bound.
          const ending = () => (lease.endsAt = Math.min(lease.endsAt, Date.now()));
          if (move < 0.7) {
            ending();
            try {
              const given = answer(random() < 0.5 ? 'ok' : 'scratch');
              if (random() < 0.5) handedOut = (await queue.submitAndClaim(mine, given)).next.sample;
              else await queue.submit(mine, given);
              answered.add(`${claim.sampleId}/${labelerId}`);
            } catch (error) {
              if (error instanceof AlreadyAnsweredError) doubleAnswers++;
              else throw error;
            }
          } else if (move < 0.8) {
            ending();
            await queue.skip(mine);
          } else if (move < 0.9) {
            ending();
            await queue.release(mine);
          } else {
            // Walks away; after the lease runs out, tries to submit anyway.
            staleSubmits.push(
              new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 200)).then(() =>
                queue.submit(mine, answer('ok')).then(
                  () => void staleAccepted++,
                  (error: unknown) => {
                    if (error instanceof LeaseLostError) staleRejected++;
                    else throw error;
                  },
                ),
              ),
            );
          }
        }
      }

      await Promise.all(labelers.map((labelerId) => labeler(labelerId)));
      await Promise.all(staleSubmits);

      expect(overlapping().map(([sample, granted]) => [sample, granted.map((l) => `${l.token}:${l.startsAt}-${l.endsAt}`)])).toEqual([]);
      expect(leases.size).toBe(SAMPLES);
      expect(doubleAnswers).toBe(0);
      expect(staleAccepted).toBe(0);
      expect(staleRejected).toBe(staleSubmits.length);
      expect(staleSubmits.length).toBeGreaterThan(0);
      const rows = await sql<{ sample_id: string; labeler_id: string }>('SELECT sample_id, labeler_id FROM labels WHERE project_id = $1', [id]);
      expect(new Set(rows.map((row) => `${row.sample_id}/${row.labeler_id}`))).toEqual(answered);
      expect(rows.length).toBe(answered.size);
      // Every sample was answered in the end (K = 1), abandoned ones included,
      // except those every labeler skipped.
      const left = await sql<{ state: string; n: number }>(
        'SELECT state, count(*)::int AS n FROM label_tasks WHERE project_id = $1 GROUP BY state',
        [id],
      );
      const skippedByAll = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT sample_id FROM label_skips k JOIN label_tasks t USING (sample_id)
         WHERE t.project_id = $1 GROUP BY sample_id HAVING count(*) = 32) s`,
        [id],
      );
      expect(left).toEqual(
        [{ state: 'done', n: SAMPLES - (skippedByAll[0]?.n ?? 0) }, ...(skippedByAll[0]?.n ? [{ state: 'open', n: skippedByAll[0].n }] : [])],
      );
      expect(rows.length).toBe(SAMPLES - (skippedByAll[0]?.n ?? 0));
    },
    120_000,
  );
});

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

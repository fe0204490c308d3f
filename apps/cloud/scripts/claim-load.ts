/**
 * The bare half of `npm run bench:queue`: LabelingQueue.claim straight at
 * Postgres, from LABELER_IDS (comma-separated) concurrent workers on a pool
 * of POOL connections, for SECONDS. Prints one JSON line: claims and their
 * latencies in ms.
 */
import pg from 'pg';
import { LabelingQueue } from '../src/labeling/labeling-queue';

const env = process.env;
const labelers = (env.LABELER_IDS ?? '').split(',').filter(Boolean);
const projectId = env.PROJECT_ID ?? '';
if (!env.DATABASE_URL || !projectId || labelers.length === 0) {
  throw new Error('claim-load needs DATABASE_URL, PROJECT_ID and LABELER_IDS');
}
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.POOL ?? 16) });
const queue = new LabelingQueue(pool, 120);
const latencies: number[] = [];
const started = performance.now();
const until = started + Number(env.SECONDS ?? 20) * 1000;
try {
  await Promise.all(
    labelers.map(async (labelerId) => {
      while (performance.now() < until) {
        const at = performance.now();
        if (!(await queue.claim(projectId, labelerId)).sample) throw new Error('the project ran out of samples; raise BENCH_QUEUE_SAMPLES');
        latencies.push(performance.now() - at);
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, latencies })}\n`);
} finally {
  await pool.end();
}

/**
 * The bare halves of `npm run bench:queue`: the labeling queue's SQL straight
 * at Postgres, from LABELER_IDS (comma-separated) concurrent workers on a
 * pool of POOL connections, for SECONDS after WARMUP_SECONDS uncounted.
 * MODE=claim (default) only claims; MODE=label answers each claimed sample
 * with claimNext, as the labeler UI does over HTTP. Prints one JSON line:
 * claims and their latencies in ms.
 */
import { pino } from 'pino';
import { openDatabase } from '../src/database/database';
import { LabelAnswerRepository } from '../src/labeling/label-answer.repository';
import { LabelTaskRepository } from '../src/labeling/label-task.repository';
import { LabelingQueue, type ClaimedSample } from '../src/labeling/labeling-queue';

const env = process.env;
const labelers = (env.LABELER_IDS ?? '').split(',').filter(Boolean);
const projectId = env.PROJECT_ID ?? '';
const mode = env.MODE ?? 'claim';
if (!env.DATABASE_URL || !projectId || labelers.length === 0 || !['claim', 'label'].includes(mode)) {
  throw new Error('claim-load needs DATABASE_URL, PROJECT_ID and LABELER_IDS, and MODE claim or label');
}
// The cloud's own pool, which runs the queue's claims as prepared statements.
const database = await openDatabase({ url: env.DATABASE_URL, poolSize: Number(env.POOL ?? 16), migrate: false }, pino({ level: 'silent' }));
const queue = new LabelingQueue(new LabelTaskRepository(database), new LabelAnswerRepository(database), { leaseSeconds: 120 });
const latencies: number[] = [];
const counted = performance.now() + Number(env.WARMUP_SECONDS ?? 0) * 1000;
const until = counted + Number(env.SECONDS ?? 20) * 1000;

async function nextClaim(labelerId: string, held: ClaimedSample | undefined): Promise<ClaimedSample> {
  const claimed = held
    ? (await queue.submitAndClaim({ sampleId: held.sampleId, labelerId, token: held.token }, { key: 'ok', value: { className: 'ok' }, spentMs: 1_000 })).next
    : await queue.claim(projectId, labelerId);
  if (!claimed.sample) throw new Error('the project ran out of samples; raise BENCH_QUEUE_SAMPLES');
  return claimed.sample;
}

try {
  await Promise.all(
    labelers.map(async (labelerId) => {
      let held: ClaimedSample | undefined;
      while (performance.now() < until) {
        const at = performance.now();
        const claimed = await nextClaim(labelerId, mode === 'label' ? held : undefined);
        if (at >= counted) latencies.push(performance.now() - at);
        held = claimed;
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - counted) / 1000, latencies })}\n`);
} finally {
  await database.close();
}

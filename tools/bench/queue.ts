/**
 * `npm run bench:queue`: the labeling queue over HTTP against its own claim
 * SQL straight at Postgres, in one run, on the database DATABASE_URL names
 * (the embedded one otherwise).
 *
 * (a) sql: BENCH_LABELERS workers call LabelingQueue.claim on a pg pool for
 *     BENCH_SECONDS, nothing else (apps/cloud/scripts/claim-load.ts);
 * (b) api: as many simulated labelers sign in to a running cloud and label
 *     over HTTP for as long, as the labeler UI does: each answer is submitted
 *     with claimNext, so its response hands out the next claim.
 * (c) the same answers and claims as (b) sent straight at Postgres, to show
 *     how much of the gap is HTTP and how much the answer's own writes.
 * All use a pool of BENCH_POOL connections. Each phase first runs
 * BENCH_WARMUP_S uncounted, so connections are open, statements prepared
 * and code compiled when counting starts, as on a service that has been up.
 * Targets: api claims at least 50% of sql claims, api p99 claim latency
 * under 50 ms. The last line is JSON.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AppProcess } from '@loupe/testing';
import { startTestBroker, startTestDatabase, startCloudProcess } from '@loupe/testing';
import pg from 'pg';

const LABELERS = Number(process.env.BENCH_LABELERS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_S ?? 3);
const POOL = Number(process.env.BENCH_POOL ?? 16);
// More than either phase can claim in its time on this kind of machine.
const SAMPLES_PER_PROJECT = Number(process.env.BENCH_QUEUE_SAMPLES ?? 100_000);
const workspace = resolve(import.meta.dirname, '..', '..');

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A project whose queue holds SAMPLES_PER_PROJECT samples. */
async function seedProject(db: pg.Pool, name: string): Promise<string> {
  const id = randomUUID();
  const modelName = `bench-${name}-${id}`;
  await db.query('INSERT INTO projects (id, name, model_name, task, classes) VALUES ($1, $2, $3, $4, $5)', [
    id,
    `${name} ${id}`,
    modelName,
    'classification',
    ['ok', 'defect'],
  ]);
  await db.query(
    `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                          prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
     SELECT gen_random_uuid(), 'bench', 'aoi-1', 'line-1', '', now(), $1, '1', 'reject', '{}'::jsonb, random(), 'margin',
            'samples/bench', repeat('0', 64), 1, 'image/jpeg'
     FROM generate_series(1, $2)`,
    [modelName, SAMPLES_PER_PROJECT],
  );
  await db.query(
    `INSERT INTO label_tasks (sample_id, project_id, priority) SELECT id, $1, priority FROM samples WHERE model_name = $2`,
    [id, modelName],
  );
  return id;
}

/**
 * Runs `claimOnce` in LABELERS loops for WARMUP_SECONDS, then SECONDS more;
 * returns claims per second and latencies of the calls started after the
 * warm-up.
 */
async function drive(claimOnce: (worker: number) => Promise<number>): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  const counted = performance.now() + WARMUP_SECONDS * 1000;
  const until = counted + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: LABELERS }, async (_, worker) => {
      while (performance.now() < until) {
        const startedAt = performance.now();
        const latency = await claimOnce(worker);
        if (startedAt >= counted) latencies.push(latency);
      }
    }),
  );
  return { perSecond: latencies.length / ((performance.now() - counted) / 1000), latencies };
}

const database = await startTestDatabase();
const broker = await startTestBroker();
const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-queue-'));
let cloud: AppProcess | undefined;
const pool = new pg.Pool({ connectionString: database.url, max: POOL });

try {
  log(`database: ${database.kind}; ${LABELERS} labelers for ${SECONDS} s each phase after ${WARMUP_SECONDS} s uncounted; pool of ${POOL} connections`);
  const bench = await startCloudProcess({ database, broker, dataDir, poolSize: POOL });
  cloud = bench.app;
  const { post } = bench;
  const adminToken = bench.admin.token;
  const labelers: { id: string; token: string }[] = [];
  for (let i = 0; i < LABELERS; i++) {
    const email = `labeler-${i}-${randomUUID()}@bench.local`;
    const user = await post('/api/users', { email, name: `labeler ${i}`, role: 'labeler', password: 'bench-labeler-password' }, adminToken);
    const { token } = (await post('/api/auth/login', { email, password: 'bench-labeler-password' }))!;
    labelers.push({ id: String(user!.id), token: String(token) });
  }
  const [sqlProject, apiProject, labelProject] = [await seedProject(pool, 'sql'), await seedProject(pool, 'api'), await seedProject(pool, 'label')];
  // The bulk load leaves work for autovacuum and the checkpointer that
  // would otherwise land in one phase and not the other.
  await pool.query('VACUUM (ANALYZE) samples, label_tasks');
  await pool.query('CHECKPOINT').catch((error: Error) => log(`no CHECKPOINT after seeding (${error.message}); phases may differ by one`));
  log(`seeded three projects of ${SAMPLES_PER_PROJECT} queued samples`);

  /** Runs apps/cloud/scripts/claim-load.ts in its own process, as the cloud would be. */
  const bare = (mode: 'claim' | 'label', projectId: string) =>
    new Promise<{ perSecond: number; latencies: number[] }>((done, fail) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'apps/cloud/scripts/claim-load.ts'],
        {
          cwd: workspace,
          maxBuffer: 256 * 1024 * 1024,
          env: {
            ...process.env,
            TSX_TSCONFIG_PATH: 'apps/cloud/tsconfig.json',
            DATABASE_URL: database.url,
            PROJECT_ID: projectId,
            LABELER_IDS: labelers.map((labeler) => labeler.id).join(','),
            MODE: mode,
            POOL: String(POOL),
            SECONDS: String(SECONDS),
            WARMUP_SECONDS: String(WARMUP_SECONDS),
          },
        },
        (error, stdout) => {
          if (error) return fail(new Error(`claim-load failed: ${error.message}`));
          const { seconds, latencies } = JSON.parse(stdout) as { seconds: number; latencies: number[] };
          done({ perSecond: latencies.length / seconds, latencies });
        },
      ),
    );
  const sql = await bare('claim', sqlProject);
  log(`(a) claim SQL at Postgres: ${sql.perSecond.toFixed(1)} claims/s, p99 ${percentile(sql.latencies, 99).toFixed(2)} ms`);

  // Each simulated labeler works as the labeler UI does: one claim to start,
  // then each answer is submitted with claimNext, and the response carries the
  // next claim. The latency is that of the request that hands out a claim.
  const submitted = { count: 0 };
  const holding = new Map<number, { sampleId: string; token: string }>();
  const http = await drive(async (worker) => {
    const { token } = labelers[worker]!;
    const held = holding.get(worker);
    const started = performance.now();
    const response = held
      ? ((await post(`/api/claims/${held.sampleId}/submit`, { token: held.token, className: 'ok', spentMs: 1_000, claimNext: true }, token))!.next as {
          claim: { sampleId: string; token: string } | null;
        })
      : ((await post(`/api/projects/${apiProject}/claims`, {}, token)) as { claim: { sampleId: string; token: string } | null });
    const latency = performance.now() - started;
    if (held) submitted.count++;
    if (!response.claim) throw new Error('the api project ran out of samples; raise BENCH_QUEUE_SAMPLES');
    holding.set(worker, response.claim);
    return latency;
  });
  const apiP99 = percentile(http.latencies, 99);
  log(`(b) claim + submit over HTTP, as the labeler UI does: ${http.perSecond.toFixed(1)} claims/s (${submitted.count} answers), p99 claim ${apiP99.toFixed(2)} ms`);
  // Where the gap lies: the same answer-and-claim statements as (b), without HTTP.
  const labeling = await bare('label', labelProject);
  log(`(c) submit + claim SQL at Postgres: ${labeling.perSecond.toFixed(1)} claims/s, p99 ${percentile(labeling.latencies, 99).toFixed(2)} ms`);

  log(
    JSON.stringify({
      labelers: LABELERS,
      seconds: SECONDS,
      warmup_seconds: WARMUP_SECONDS,
      pool: POOL,
      database: database.kind,
      sql_claims_per_s: Math.round(sql.perSecond * 10) / 10,
      sql_p99_ms: Math.round(percentile(sql.latencies, 99) * 100) / 100,
      api_claims_per_s: Math.round(http.perSecond * 10) / 10,
      api_p50_ms: Math.round(percentile(http.latencies, 50) * 100) / 100,
      api_p99_ms: Math.round(apiP99 * 100) / 100,
      sql_label_per_s: Math.round(labeling.perSecond * 10) / 10,
      api_vs_sql_label: Math.round((http.perSecond / labeling.perSecond) * 1000) / 1000,
      ratio: Math.round((http.perSecond / sql.perSecond) * 1000) / 1000,
      ratio_target_met: http.perSecond >= 0.5 * sql.perSecond,
      p99_target_met: apiP99 < 50,
    }),
  );
} finally {
  await cloud?.stop('SIGKILL');
  await pool.end();
  await database.stop();
  await broker.stop();
  await rm(dataDir, { recursive: true, force: true });
}

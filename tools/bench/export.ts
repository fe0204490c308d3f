/**
 * `npm run bench:export`: does a dataset export run in constant memory?
 * One cloud exports a small project (BENCH_EXPORT_SMALL settled samples,
 * default 20,000) and a large one (BENCH_EXPORT_LARGE, default 200,000) as
 * JSON Lines over HTTP; the bench samples the cloud's resident memory while
 * each streams. The baseline is the small export in the same run: the
 * large one's peak growth over it should stay near 1x, not grow tenfold
 * with the data.
 *
 * The cloud runs with its V8 old space capped (BENCH_EXPORT_HEAP_MB, default
 * 128). Uncapped, V8 grows its heap lazily under a high allocation rate, so
 * resident memory measures garbage not yet collected; capped, an export
 * that held its rows would run out of memory (200,000 samples are about
 * 100 MB of JSON) instead of finishing. The last line is JSON.
 */
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppProcess } from '@loupe/testing';
import { startTestBroker, startTestDatabase, startCloudProcess } from '@loupe/testing';
import pg from 'pg';

const SMALL = Number(process.env.BENCH_EXPORT_SMALL ?? 20_000);
const LARGE = Number(process.env.BENCH_EXPORT_LARGE ?? 200_000);
const HEAP_MB = Number(process.env.BENCH_EXPORT_HEAP_MB ?? 128);

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** A project with `count` settled samples, each answered by `labelerId`. */
async function seed(db: pg.Client, count: number, labelerId: string): Promise<string> {
  const id = randomUUID();
  const modelName = `export-${id}`;
  await db.query('INSERT INTO projects (id, name, model_name, task, classes) VALUES ($1, $2, $3, $4, $5)', [
    id,
    modelName,
    modelName,
    'classification',
    ['ok', 'defect'],
  ]);
  await db.query(
    `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                          prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
     SELECT gen_random_uuid(), 'bench', 'aoi-1', 'line-1', 'SN-' || n, now(), $1, '1', 'reject',
            '{"scores":[{"label":"defect","score":0.55},{"label":"ok","score":0.45}],"boxes":[]}'::jsonb, random(), 'margin',
            'samples/bench/' || n || '.jpg', repeat('0', 64), 50000, 'image/jpeg'
     FROM generate_series(1, $2) AS n`,
    [modelName, count],
  );
  await db.query(
    `INSERT INTO label_tasks (sample_id, project_id, priority, state, answers) SELECT id, $1, priority, 'done', 1 FROM samples WHERE model_name = $2`,
    [id, modelName],
  );
  await db.query(
    `INSERT INTO labels (sample_id, project_id, labeler_id, answer_key, answer, spent_ms)
     SELECT id, $1, $3, 'defect', '{"className":"defect"}'::jsonb, 1500 FROM samples WHERE model_name = $2`,
    [id, modelName, labelerId],
  );
  await db.query('ANALYZE');
  return id;
}

const database = await startTestDatabase();
const broker = await startTestBroker();
const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-export-'));
const db = new pg.Client({ connectionString: database.url });
let cloud: AppProcess | undefined;

try {
  const bench = await startCloudProcess({
    database,
    broker,
    dataDir,
    poolSize: Math.min(database.maxConnections, 8),
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim() },
  });
  cloud = bench.app;
  const api = bench.httpUrl;
  const { token, id: userId } = bench.admin;
  await db.connect();
  log(`database: ${database.kind}; cloud heap capped at ${HEAP_MB} MB; seeding ${SMALL} and ${LARGE} settled samples`);
  const small = await seed(db, SMALL, userId);
  const large = await seed(db, LARGE, userId);

  /** Streams one export, discarding it; returns its rate and the cloud's peak memory growth. */
  async function exportOnce(projectId: string, expected: number) {
    const before = await residentBytes(cloud!.pid!);
    let peak = before;
    const sampler = setInterval(() => void residentBytes(cloud!.pid!).then((bytes) => (peak = Math.max(peak, bytes))), 50);
    const started = performance.now();
    const response = await fetch(`${api}/api/projects/${projectId}/export`, { headers: { authorization: `Bearer ${token}` } });
    let lines = 0;
    for await (const chunk of response.body ?? []) for (const byte of chunk as Uint8Array) if (byte === 0x0a) lines++;
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (lines !== expected) throw new Error(`export of ${expected} samples had ${lines} lines`);
    return { perSecond: lines / seconds, growthBytes: Math.max(0, peak - before) };
  }

  // A first export warms the process (JIT, pools), so neither measured one pays for it.
  await exportOnce(small, SMALL);
  const smallRun = await exportOnce(small, SMALL);
  const largeRun = await exportOnce(large, LARGE);
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  log(`small: ${SMALL} samples at ${smallRun.perSecond.toFixed(0)}/s, cloud memory grew ${mib(smallRun.growthBytes)} MiB at peak`);
  log(`large: ${LARGE} samples at ${largeRun.perSecond.toFixed(0)}/s, cloud memory grew ${mib(largeRun.growthBytes)} MiB at peak`);
  // A floor of 1 MiB keeps noise on a near-zero baseline from making the ratio meaningless.
  const floor = 1024 * 1024;
  const ratio = Math.max(largeRun.growthBytes, floor) / Math.max(smallRun.growthBytes, floor);
  log(
    JSON.stringify({
      small_samples: SMALL,
      large_samples: LARGE,
      small_samples_per_s: Math.round(smallRun.perSecond),
      large_samples_per_s: Math.round(largeRun.perSecond),
      small_peak_growth_mib: Number(mib(smallRun.growthBytes)),
      large_peak_growth_mib: Number(mib(largeRun.growthBytes)),
      memory_growth_ratio: Math.round(ratio * 100) / 100,
      data_ratio: LARGE / SMALL,
      heap_cap_mb: HEAP_MB,
      constant_memory: ratio < 2,
    }),
  );
} finally {
  await cloud?.stop('SIGKILL');
  await db.end().catch(() => undefined);
  await database.stop();
  await broker.stop();
  await rm(dataDir, { recursive: true, force: true });
}

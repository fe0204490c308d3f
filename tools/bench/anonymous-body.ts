/**
 * `npm run bench:anonymous-body`: what does an anonymous client's large
 * body cost the cloud? One cloud process gets BENCH_BODY_MB (default 200)
 * MiB of zeros, with no session, on the model push route (as a package
 * tar), on an admin route (as JSON and as a tar) and on sign-in (as JSON);
 * for each the bench prints the answer and how far the cloud's resident
 * memory peaked above where it stood (VmHWM after a reset, so a body held
 * for a moment counts).
 * Target: a few MiB, not the body. The last line is JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peakMemoryGrowth, postLargeBody, startCloudProcess, startTestBroker, startTestDatabase } from '@loupe/testing';

const BODY_MB = Number(process.env.BENCH_BODY_MB ?? 200);
const MiB = 1024 * 1024;

const database = await startTestDatabase();
const broker = await startTestBroker();
const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-body-'));
const cloud = await startCloudProcess({ database, broker, dataDir, poolSize: 4 });
try {
  const pid = cloud.app.pid!;
  const targets = [
    { route: 'POST /api/models', path: '/api/models', contentType: 'application/x-tar' },
    { route: 'POST /api/users', path: '/api/users', contentType: 'application/json' },
    { route: 'POST /api/users as a tar', path: '/api/users', contentType: 'application/x-tar' },
    { route: 'POST /api/auth/login', path: '/api/auth/login', contentType: 'application/json' },
  ];
  // One small round first, so what the first request warms up (code, pools) is not counted.
  for (const target of targets) await postLargeBody(`${cloud.httpUrl}${target.path}`, { bytes: MiB, contentType: target.contentType });
  const results: Record<string, { answer: number | 'closed'; peakGrowthMiB: number }> = {};
  for (const target of targets) {
    let answer: number | 'closed' = 'closed';
    const growth = await peakMemoryGrowth(pid, async () => {
      const sent = await postLargeBody(`${cloud.httpUrl}${target.path}`, { bytes: BODY_MB * MiB, contentType: target.contentType });
      answer = sent === 'closed' ? sent : sent.status;
    });
    results[target.route] = { answer, peakGrowthMiB: Math.round((growth / MiB) * 10) / 10 };
    process.stdout.write(`${target.route}: ${BODY_MB} MiB anonymous -> ${answer}, peak resident growth ${results[target.route]!.peakGrowthMiB} MiB\n`);
  }
  process.stdout.write(`${JSON.stringify({ bodyMiB: BODY_MB, results })}\n`);
} finally {
  await cloud.app.stop();
  await Promise.all([database.stop(), broker.stop()]);
  await rm(dataDir, { recursive: true, force: true });
}

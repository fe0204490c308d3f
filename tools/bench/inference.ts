/**
 * `npm run bench:inference`: what the agent adds to bare inference, on the
 * same model and images in the same run (these machines are noisy, so
 * only ratios within one run mean anything).
 *
 * (a) bare: sharp preprocessing + session.run in this process, sequential
 *     and at concurrency 8;
 * (b) agent: the edge agent as its own process, called over gRPC by a
 *     client in a third process, at concurrency 1 and 8.
 *
 * Targets: agent p50 at concurrency 1 within bare p50 + 2 ms; agent
 * throughput at concurrency 8 at least 90% of the bare pipeline's best.
 * To tell the agent's share of the p50 overhead from gRPC's, it also times
 * a server that holds each call for the bare p50 and does nothing else.
 * The four measurements alternate over BENCH_ROUNDS rounds and each figure
 * is the median over rounds, so a noisy neighbour skews both sides alike.
 * The last line is one JSON object with the figures.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeImage, readModelManifest, writeImageTensor } from '@loupe/inference';
import { AppProcess } from '@loupe/testing';
import { freePort } from '@loupe/testing';
import ort from 'onnxruntime-node';
import { measureAtConcurrency, type LatencySummary } from './latency';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const workspace = resolve(import.meta.dirname, '..', '..');
const manifestPath = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'manifest.json');
const imageDir = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'sample-images');
const imagePaths = ['Defective_02.png', 'Defective_25.png', 'Normal_33.png', 'Normal_35.png'].map((name) => join(imageDir, name));

async function openBare() {
  const { manifest, modelPath } = await readModelManifest(manifestPath);
  const session = await ort.InferenceSession.create(await readFile(modelPath), {
    executionProviders: ['cpu'],
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
  });
  const images = await Promise.all(imagePaths.map((path) => readFile(path)));
  const { shape } = manifest.input;
  const once = async (image: Buffer) => {
    const { pixels } = await decodeImage(image, manifest.input);
    const tensor = new Float32Array(3 * shape[2] * shape[3]);
    writeImageTensor(pixels, manifest.input, tensor, 0);
    await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [1, 3, shape[2], shape[3]]) });
  };
  for (const image of images) await once(image);
  return {
    measure: (concurrency: number) => measureAtConcurrency(concurrency, REQUESTS, (index) => once(images[index % images.length]!)),
    close: () => session.release(),
  };
}

/**
 * What the station saw, the agent's own p50 (decode to post-processing) as
 * it reported it, and the p50 of a health check on the same server: the
 * round trip any gRPC call pays on this machine.
 */
interface AgentSummary extends LatencySummary {
  agent_total_p50_ms: number;
  rpc_floor_p50_ms: number;
}

/** REQUESTS Inspect calls from the station process (inspect-client.ts) to a server on `port`. */
async function stationCalls(port: number, concurrency: number): Promise<AgentSummary> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'tools/bench/inspect-client.ts', `127.0.0.1:${port}`, String(concurrency), String(REQUESTS), ...imagePaths],
    { cwd: workspace },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as AgentSummary;
}

async function startBenchAgent() {
  const grpcPort = await freePort();
  const app = new AppProcess({
    name: 'edge-agent',
    cwd: workspace,
    entry: 'apps/edge-agent/src/main.ts',
    tsconfig: 'apps/edge-agent/tsconfig.json',
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      MODEL_MANIFEST: manifestPath,
      EXECUTION_PROVIDERS: 'cpu',
      CPU_INTRA_OP_THREADS: String(THREADS),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      STATUS_PORT: String(await freePort()),
      OUTBOX_DIR: join(tmpdir(), `loupe-bench-outbox-${process.pid}`),
      // The benchmark needs no broker; the agent keeps inspecting without one.
      MQTT_URL: 'mqtt://127.0.0.1:1',
    },
  });
  await app.waitForLog('model serving');
  return {
    measure: (concurrency: number) => stationCalls(grpcPort, concurrency),
    close: () => app.stop(),
  };
}

/**
 * What gRPC alone adds on this machine to a call that takes `holdMs`: the
 * same client against a server that answers Inspect after holding each
 * call that long and does nothing else.
 */
async function grpcFloorP50(holdMs: number): Promise<number> {
  const port = await freePort();
  const server = spawn(process.execPath, ['--import', 'tsx', 'tools/bench/inspect-echo-server.ts', String(port), String(holdMs)], {
    cwd: workspace,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
      server.once('exit', (code) => reject(new Error(`the echo server exited with ${code}`)));
    });
    return (await stationCalls(port, 1)).p50_ms;
  } finally {
    server.kill();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const bare = await openBare();
const agent = await startBenchAgent();
const runs = { bare1: [] as LatencySummary[], bare8: [] as LatencySummary[], agent1: [] as AgentSummary[], agent8: [] as AgentSummary[] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    runs.bare1.push(await bare.measure(1));
    runs.agent1.push(await agent.measure(1));
    runs.bare8.push(await bare.measure(8));
    runs.agent8.push(await agent.measure(8));
    console.log(
      `round ${round}: bare p50 ${runs.bare1.at(-1)!.p50_ms} ms, agent p50 ${runs.agent1.at(-1)!.p50_ms} ms ` +
        `(${runs.agent1.at(-1)!.agent_total_p50_ms} ms inside the agent; an empty call ${runs.agent1.at(-1)!.rpc_floor_p50_ms} ms), ` +
        `bare c8 ${runs.bare8.at(-1)!.throughput_rps} rps, agent c8 ${runs.agent8.at(-1)!.throughput_rps} rps`,
    );
  }
} finally {
  await agent.close();
  await bare.close();
}

const bareP50 = median(runs.bare1.map((run) => run.p50_ms));
const agentP50 = median(runs.agent1.map((run) => run.p50_ms));
const bareBest = median(runs.bare1.map((run, i) => Math.max(run.throughput_rps, runs.bare8[i]!.throughput_rps)));
const agentThroughput = median(runs.agent8.map((run) => run.throughput_rps));
const grpcFloor = await grpcFloorP50(bareP50);
console.log(`gRPC alone, for a call held ${bareP50} ms (the bare p50): ${grpcFloor} ms at p50`);
console.log(
  JSON.stringify({
    model: 'pcb-aoi',
    requests: REQUESTS,
    rounds: ROUNDS,
    threads: THREADS,
    bare_p50_ms: bareP50,
    agent_p50_ms: agentP50,
    p50_overhead_ms: Math.round((agentP50 - bareP50) * 100) / 100,
    agent_inside_p50_ms: median(runs.agent1.map((run) => run.agent_total_p50_ms)),
    rpc_floor_p50_ms: median(runs.agent1.map((run) => run.rpc_floor_p50_ms)),
    p50_target_met: agentP50 <= bareP50 + 2,
    grpc_floor_p50_ms: grpcFloor,
    p50_overhead_beyond_grpc_ms: Math.round((agentP50 - grpcFloor) * 100) / 100,
    bare_throughput_rps: bareBest,
    agent_throughput_rps: agentThroughput,
    throughput_ratio: Math.round((agentThroughput / bareBest) * 1000) / 1000,
    throughput_target_met: agentThroughput >= 0.9 * bareBest,
  }),
);

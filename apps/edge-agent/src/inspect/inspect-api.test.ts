import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { InspectRequest, InspectResponse, InspectServiceClient } from '@loupe/proto';
import { bmpWithPalette, discoverViaReflection, pngClaimingSize } from '@loupe/testing';
import { service as healthService } from 'grpc-health-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../agent-runtime';
import { DEMO_MODEL_DIR, TEST_MODELS, startTestAgent, type TestAgent } from '../testing/test-agent';

const DEMO_MANIFEST = join(DEMO_MODEL_DIR, 'manifest.json');
const SAMPLES = join(DEMO_MODEL_DIR, 'sample-images');
const SQUEEZENET = join(TEST_MODELS, 'squeezenet1.0');

describe('the Inspect gRPC API', () => {
  let running: TestAgent;
  let agent: RunningAgent;
  let client: InspectServiceClient;
  let defective: Buffer;
  let normal: Buffer;

  beforeAll(async () => {
    running = await startTestAgent({ EXECUTION_PROVIDERS: 'tensorrt,cuda,cpu', CPU_INTRA_OP_THREADS: '2' });
    ({ agent, client } = running);
    [defective, normal] = await Promise.all([readFile(join(SAMPLES, 'Defective_02.png')), readFile(join(SAMPLES, 'Normal_33.png'))]);
  });
  afterAll(() => running?.stop());

  const request = (image: Buffer, overrides: Partial<InspectRequest> = {}): InspectRequest => ({
    requestId: randomBytes(4).toString('hex'),
    stationId: 'line-3-aoi',
    unitSerial: 'SN-0001',
    image,
    ...overrides,
  });

  const inspect = (message: InspectRequest) =>
    new Promise<InspectResponse>((resolve, reject) => client.inspect(message, (error, response) => (error ? reject(error) : resolve(response))));

  async function healthOf(service: string): Promise<string> {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(agent.grpcAddress, credentials.createInsecure());
    try {
      const answer = await new Promise<{ status: number | string }>((resolve, reject) =>
        (health as unknown as { check(r: { service: string }, cb: (e: Error | null, r: { status: number | string }) => void): void }).check(
          { service },
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      );
      return String(answer.status);
    } finally {
      health.close();
    }
  }

  it('answers UNAVAILABLE and NOT_SERVING until a model is active', async () => {
    expect(await healthOf('loupe.v1.InspectService')).toMatch(/NOT_SERVING|2/);
    await expect(inspect(request(normal))).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect(await agent.activateModel(DEMO_MANIFEST)).toBe(true);
    expect(await healthOf('loupe.v1.InspectService')).toMatch(/^(SERVING|1)$/);
  });

  it('judges an image with the verdict, scores, model, provider and stage timings', async () => {
    const response = await inspect(request(defective, { requestId: 'r-1' }));
    expect(response).toMatchObject({
      requestId: 'r-1',
      prediction: { verdict: 'reject' },
      model: { name: 'pcb-aoi', version: '1' },
      provider: 'cpu',
    });
    expect(response.prediction?.scores[0]).toMatchObject({ label: 'Defective' });
    expect(response.timings?.totalMs).toBeGreaterThan(0);
    expect(response.timings?.inferenceMs).toBeGreaterThan(0);
  });

  it('exports stage latencies, batch sizes, verdicts and the active model as Prometheus metrics', async () => {
    await inspect(request(normal));
    await inspect(request(Buffer.from('junk'))).catch(() => undefined);
    const text = await (await fetch(`${agent.statusUrl}/metrics`)).text();
    for (const stage of ['decode', 'preprocess', 'queue', 'inference', 'postprocess', 'total']) {
      expect(text).toMatch(new RegExp(`loupe_agent_inspect_stage_seconds_count\\{stage="${stage}"\\} [1-9]`));
    }
    expect(text).toMatch(/loupe_agent_inference_batch_size_count [1-9]/);
    expect(text).toMatch(/loupe_agent_verdicts_total\{verdict="pass"\} [1-9]/);
    expect(text).toContain('loupe_agent_active_model_info{model="pcb-aoi",version="1",provider="cpu"} 1');
    expect(text).toMatch(/loupe_agent_inspect_errors_total\{kind="invalid_argument"\} [1-9]/);
  });

  it('can be found and called by a client that knows only the address (server reflection)', async () => {
    const discovered = await discoverViaReflection(agent.grpcAddress);
    try {
      // Exactly what the agent serves: not the registry or rollout services the cloud serves from the same protos.
      expect(discovered.services.sort()).toEqual(
        ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'loupe.v1.InspectService'],
      );
      await expect(discovered.clientFor('loupe.v1.ModelRegistryService')).rejects.toThrow(/not found/i);
      const Inspect = await discovered.clientFor('loupe.v1.InspectService');
      // Clients built from descriptors use the proto's field names, as grpcurl does.
      const dynamic = new Inspect(agent.grpcAddress, credentials.createInsecure()) as unknown as {
        Inspect(r: object, cb: (e: Error | null, r: { prediction: { verdict: string } }) => void): void;
        close(): void;
      };
      const answer = await new Promise<{ prediction: { verdict: string } }>((resolve, reject) =>
        dynamic.Inspect({ station_id: 'line-3-aoi', image: normal }, (error, response) => (error ? reject(error) : resolve(response))),
      );
      dynamic.close();
      expect(answer.prediction.verdict).toBe('pass');
    } finally {
      discovered.close();
    }
  });

  describe('bad input gets INVALID_ARGUMENT and the agent keeps serving', async () => {
    const noise = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    const cases: [string, () => InspectRequest, RegExp][] = [
      ['an empty request', () => ({ requestId: '', stationId: '', unitSerial: '', image: Buffer.alloc(0) }), /station_id is required/],
      ['a missing station id', () => request(normal, { stationId: '' }), /station_id is required/],
      ['no image', () => request(Buffer.alloc(0)), /image is empty/],
      ['bytes that are not an image', () => request(Buffer.from('%PDF-1.7 not an image')), /format not recognised/],
      ['a truncated JPEG', () => request(noise.subarray(0, noise.length / 2)), /image is damaged: the JPEG ends inside its scan data/],
      ['an unsupported format', () => request(Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'binary')), /not supported|not recognised/],
      ['a header that claims 30000x30000', () => request(pngClaimingSize(30000, 30000)), /30000x30000 \(900 MP\); the limit is 50 MP/],
      ['an unsupported pixel format', () => request(bmpWithPalette()), /BMP pixel format 8-bit is not supported/],
    ];
    it.each(cases)('%s, interleaved with good requests on one connection', async (_name, make, message) => {
      const [bad, good] = await Promise.allSettled([inspect(make()), inspect(request(normal))]);
      expect(bad.status).toBe('rejected');
      expect((bad as PromiseRejectedResult).reason as ServiceError).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      expect(((bad as PromiseRejectedResult).reason as ServiceError).details).toMatch(message);
      expect(good).toMatchObject({ status: 'fulfilled', value: { prediction: { verdict: 'pass' } } });
    });
  });

  it('answers a stream of good and bad requests in order of arrival, without closing it', async () => {
    const stream = client.inspectStream();
    const answers: InspectResponse[] = [];
    stream.on('data', (response: InspectResponse) => answers.push(response));
    const finished = new Promise((resolve) => stream.on('end', resolve));
    stream.write(request(defective, { requestId: 'good-1' }));
    stream.write(request(Buffer.from('junk'), { requestId: 'bad-1' }));
    stream.write(request(normal, { requestId: 'good-2' }));
    stream.write(request(normal, { requestId: 'bad-2', stationId: '' }));
    stream.end();
    await finished;
    const byId = new Map(answers.map((answer) => [answer.requestId, answer]));
    expect(byId.get('good-1')?.prediction?.verdict).toBe('reject');
    expect(byId.get('good-2')?.prediction?.verdict).toBe('pass');
    expect(byId.get('bad-1')?.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(byId.get('bad-2')?.error?.message).toMatch(/station_id is required/);
  });

  it('refuses a model that does not load, with its reason, and keeps serving the current one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'loupe-bad-model-'));
    const manifest = JSON.parse(await readFile(DEMO_MANIFEST, 'utf8')) as Record<string, unknown>;
    await copyFile(join(TEST_MODELS, 'pcb-aoi-original', 'pcb-aoi.original-opset1.onnx'), join(folder, 'old.onnx'));
    await writeFile(join(folder, 'manifest.json'), JSON.stringify({ ...manifest, version: '2', modelFile: 'old.onnx', goldenSamples: [] }));
    expect(await agent.activateModel(join(folder, 'manifest.json'))).toBe(false);
    await expect(inspect(request(normal))).resolves.toMatchObject({ model: { version: '1' } });
    await rm(folder, { recursive: true, force: true });
  });

  it('swaps to another model under load without failing a request', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'loupe-swap-'));
    const labels = (await readFile(join(SQUEEZENET, 'Labels.txt'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => line.slice(line.indexOf(',') + 1).trim());
    await copyFile(join(SQUEEZENET, 'SqueezeNet_fp32.from-fp16.onnx'), join(folder, 'squeezenet.onnx'));
    await writeFile(
      join(folder, 'manifest.json'),
      JSON.stringify({
        name: 'squeezenet',
        version: '1',
        task: 'classification',
        modelFile: 'squeezenet.onnx',
        input: { name: 'data_0', shape: [1, 3, 224, 224], layout: 'NCHW', dtype: 'float32', channelOrder: 'BGR', resize: { mode: 'stretch' } },
        output: { task: 'classification', scores: 'softmaxout_1', topK: 3 },
        labels,
      }),
    );
    let stop = false;
    const served: string[] = [];
    const failures: unknown[] = [];
    const worker = async () => {
      while (!stop) {
        try {
          served.push((await inspect(request(normal))).model?.name ?? '?');
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = Array.from({ length: 6 }, () => worker());
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await agent.activateModel(join(folder, 'manifest.json'))).toBe(true);
    const afterSwap = served.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    stop = true;
    await Promise.all(workers);
    await rm(folder, { recursive: true, force: true });
    expect(failures).toEqual([]);
    expect(served.slice(0, 5)).toContain('pcb-aoi');
    expect(served.slice(afterSwap + 6)).not.toContain('pcb-aoi');
    expect(served.at(-1)).toBe('squeezenet');
  });
});

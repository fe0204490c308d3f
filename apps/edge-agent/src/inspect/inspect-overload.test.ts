import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { InspectResponse } from '@loupe/proto';
import { eventually } from '@loupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeMetric } from '../testing/scrape-metric';
import { DEMO_MODEL_DIR, startTestAgent, type TestAgent } from '../testing/test-agent';

/** An agent that runs one image at a time, with the given queue bound. */
function overloadable(queueLimit: number) {
  const agent = {
    running: undefined as TestAgent | undefined,
    image: Buffer.alloc(0),
    async start() {
      agent.running = await startTestAgent({
        EXECUTION_PROVIDERS: 'cpu',
        MODEL_MANIFEST: join(DEMO_MODEL_DIR, 'manifest.json'),
        BATCH_MAX_SIZE: '1',
        BATCH_CONCURRENCY: '1',
        INFERENCE_QUEUE_LIMIT: String(queueLimit),
      });
      agent.image = await readFile(join(DEMO_MODEL_DIR, 'sample-images', 'Normal_33.png'));
      const { statusUrl } = agent.running.agent;
      await eventually(async () => expect(await (await fetch(`${statusUrl}/healthz`)).json()).toMatchObject({ model: { name: 'pcb-aoi' } }), {
        timeoutMs: 30_000,
      });
    },
    inspect: (deadline?: Date) =>
      new Promise<InspectResponse>((resolve, reject) =>
        agent.running!.client.inspect(
          { requestId: '', stationId: 'line-3-aoi', unitSerial: '', image: agent.image },
          new Metadata(),
          deadline ? { deadline } : {},
          (error, response) => (error ? reject(error) : resolve(response)),
        ),
      ),
    metric: (sample: string) => scrapeMetric(agent.running!.agent.statusUrl, sample),
  };
  return agent;
}

describe('the Inspect API under overload', () => {
  // Room for one waiting request: easy to overfill.
  const agent = overloadable(1);
  beforeAll(() => agent.start());
  afterAll(() => agent.running?.stop());

  it('answers RESOURCE_EXHAUSTED beyond the queue bound and serves the rest', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => agent.inspect()));
    const refused = results.filter((result) => result.status === 'rejected').map((result) => (result).reason as ServiceError);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(results.filter((result) => result.status === 'fulfilled').length).toBeGreaterThan(0);
  });
});

describe('the Inspect API with deadlines', () => {
  const agent = overloadable(512);
  beforeAll(() => agent.start());
  afterAll(() => agent.running?.stop());

  it('drops a request whose gRPC deadline passes while it waits, without running the model on it', async () => {
    const dropped = 'loupe_agent_inspect_errors_total{kind="deadline_exceeded"}';
    const ran = 'loupe_agent_inference_batch_size_count';
    const droppedBefore = await agent.metric(dropped);
    const ranBefore = await agent.metric(ran);
    const ahead = Array.from({ length: 256 }, () => agent.inspect());
    // The late request is sent once every other one has reached the agent:
    // sent with them, it would wait behind their bytes on the client's
    // connection, and gRPC would drop it before the agent saw it. 64 queued
    // inferences, one at a time, outlast its 300 ms even on a fast box.
    await eventually(
      async () => {
        const queued = await agent.metric('loupe_agent_inference_queue_depth');
        const done = (await agent.metric(ran)) - ranBefore;
        expect(queued + done).toBeGreaterThanOrEqual(255);
        expect(queued).toBeGreaterThanOrEqual(64);
      },
      // Waiting for the requests to arrive is a precondition, not a measure: a loaded CI box may take many seconds.
      { intervalMs: 5, timeoutMs: 60_000 },
    );
    const late = agent.inspect(new Date(Date.now() + 300));
    await expect(late).rejects.toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED });
    await Promise.all(ahead);
    await eventually(async () => expect(await agent.metric(dropped)).toBe(droppedBefore + 1));
    expect(await agent.metric(ran)).toBe(ranBefore + 256);
  }, 120_000);
});

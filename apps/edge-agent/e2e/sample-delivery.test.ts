import {
  eventually,
  startBrokerProcess,
  startTcpProxy,
  startTestBroker,
  startTestDatabase,
  startTestObjectStore,
  type BrokerProcess,
  type TcpProxy,
  type TestBroker,
  type TestDatabase,
  type TestObjectStore,
} from '@loupe/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeAudit, type DeliveryAudit } from './delivery-audit';
import { DeliveryStack, images } from './delivery-stack';

const SAMPLES = Number(process.env.E2E_SAMPLES ?? 300);

/**
 * Edge agent to Postgres and S3 through a real broker, as separate
 * processes, with the failures a factory sees: the fault matrix's kept legs
 * (docs/testing.md). Each leg counts every sample id the agent accepted
 * against the rows and images the cloud stored (DeliveryStack.audit): none
 * lost, none stored twice or its image written twice, none unexplained,
 * every image the one its row names.
 */
describe('sample delivery from the edge to the cloud', () => {
  let broker: TestBroker;
  let objectStore: TestObjectStore;
  let database: TestDatabase | undefined;
  let stack: DeliveryStack | undefined;
  let ownBroker: BrokerProcess | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    [broker, objectStore] = await Promise.all([startTestBroker(), startTestObjectStore()]);
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    await ownBroker?.stop();
    ownBroker = undefined;
    await proxy?.stop();
    proxy = undefined;
    await database?.stop();
    database = undefined;
  });
  afterAll(async () => {
    await Promise.all([broker?.stop(), objectStore?.stop()]);
  });

  /** A cloud, an agent and a camera of their own per test, on the shared broker and object store. */
  async function setUp(mqtt = { url: broker.url, topicRoot: broker.topicRoot }, agentOverrides: Record<string, string> = {}) {
    database = await startTestDatabase();
    stack = await DeliveryStack.start({ database, broker: mqtt, objectStore }, agentOverrides);
    return stack;
  }

  function expectEveryAcceptedSampleOnce(leg: string, audit: DeliveryAudit): void {
    process.stdout.write(`${describeAudit(leg, audit)}\n`);
    expect({ lost: audit.lost, duplicated: audit.duplicated, unexplained: audit.unexplained, damaged: audit.damaged }).toEqual({
      lost: [],
      duplicated: [],
      unexplained: [],
      damaged: [],
    });
  }

  it(`delivers ${SAMPLES} samples in steady state, each once`, async () => {
    const stack = await setUp();
    await stack.startCloud();
    await stack.startAgent();
    const { failedCalls } = await stack.inspectAll(await images(SAMPLES));
    expect(failedCalls).toBe(0);
    const audit = await stack.audit(objectStore.writes);
    expectEveryAcceptedSampleOnce('steady state', audit);
    expect(audit.accepted).toBe(SAMPLES);
  }, 300_000);

  it('loses nothing when the agent is killed mid-stream and restarted', async () => {
    const stack = await setUp();
    await stack.startCloud();
    let agent = await stack.startAgent();
    let restarted: Promise<void> | undefined;
    let unloggedInOutbox: string[] = [];
    await stack.inspectAll(await images(200), (done) => {
      if (done !== 100 || restarted) return;
      restarted = agent.stop('SIGKILL').then(async (code) => {
        expect(code).toBe(137);
        // Durable in the outbox, so accepted, though the agent died before it could log so.
        unloggedInOutbox = await stack.acceptFromOutbox();
        agent = await stack.startAgent();
      });
    });
    await restarted;
    expect(restarted).toBeDefined();
    const audit = await stack.audit(objectStore.writes);
    expectEveryAcceptedSampleOnce(`agent SIGKILL (${unloggedInOutbox.length} accepted without a log line, found in the outbox)`, audit);
  }, 300_000);

  it('loses nothing when the cloud is killed mid-stream and restarted', async () => {
    const stack = await setUp();
    let cloud = await stack.startCloud();
    await stack.startAgent();
    let restarted: Promise<void> | undefined;
    let storedAtKill = 0;
    await stack.inspectAll(await images(200), (done) => {
      if (done !== 60 || restarted) return;
      restarted = stack.storedIds().then(async (ids) => {
        storedAtKill = ids.length;
        expect(await cloud.stop('SIGKILL')).toBe(137);
        cloud = await stack.startCloud();
      });
    });
    await restarted;
    const audit = await stack.audit(objectStore.writes);
    expectEveryAcceptedSampleOnce('cloud SIGKILL', audit);
    // The kill came while there was ingest to do.
    expect(storedAtKill).toBeLessThan(audit.accepted);
    expect(audit.accepted).toBe(200);
  }, 300_000);

  it('loses nothing when the broker is killed mid-stream and restarted empty', async () => {
    ownBroker = await startBrokerProcess();
    const brokerProcess = ownBroker;
    // Mosquitto where it is installed, Aedes otherwise; the output says which ran.
    process.stdout.write(`broker SIGKILL leg runs on ${brokerProcess.kind}\n`);
    const stack = await setUp({ url: brokerProcess.url, topicRoot: 'loupe/v1' });
    await stack.startCloud();
    await stack.startAgent();
    let restarted: Promise<void> | undefined;
    await stack.inspectAll(await images(200), (done) => {
      if (done !== 60 || restarted) return;
      // Without persistence the broker forgets sessions, subscriptions and
      // every message it had not delivered.
      restarted = brokerProcess
        .kill()
        .then(() => new Promise((resolve) => setTimeout(resolve, 1_000)))
        .then(() => brokerProcess.restart());
    });
    await restarted;
    expect(restarted).toBeDefined();
    const audit = await stack.audit(objectStore.writes);
    expectEveryAcceptedSampleOnce(`broker SIGKILL (${brokerProcess.kind})`, audit);
    expect(audit.accepted).toBe(200);
  }, 300_000);

  /** An agent whose broker link goes through a proxy the test can cut. */
  async function setUpBehindProxy(agentOverrides: Record<string, string> = {}) {
    const target = new URL(broker.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 1883) });
    const stack = await setUp({ url: broker.url, topicRoot: broker.topicRoot }, { MQTT_URL: `mqtt://${proxy.address}`, ...agentOverrides });
    return { stack, link: proxy };
  }

  it('keeps inspecting through a broker outage, then drains the backlog most valuable first', async () => {
    // Priority orders the backlog window by window; within one window the
    // cloud stores in any order, so the window is a fraction of the backlog.
    const { stack, link } = await setUpBehindProxy({ UPLINK_WINDOW: '32' });
    await stack.startCloud();
    await stack.startAgent();
    link.cut();
    const { failedCalls } = await stack.inspectAll(await images(120));
    expect(failedCalls).toBe(0);
    // The test learns of an accepted sample from the agent's log line, which may arrive after the gauge has counted it.
    await eventually(
      async () => {
        expect(await stack.metric('loupe_agent_outbox_samples')).toBe(120);
        expect(stack.accepted.size).toBe(120);
      },
      { timeoutMs: 30_000 },
    );
    expect(await stack.storedIds()).toEqual([]);

    link.restore();
    expectEveryAcceptedSampleOnce('link cut, then restored', await stack.audit(objectStore.writes));
    const arrival = (await stack.db.query<{ id: string }>('SELECT id FROM samples ORDER BY received_at, id')).rows.map((row) => stack.priorities.get(row.id)!);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    // The order is by priority up to the window: compare the first and last quarters.
    expect(mean(arrival.slice(0, 30))).toBeGreaterThan(mean(arrival.slice(-30)));
    expect(Math.min(...arrival.slice(0, 16))).toBeGreaterThanOrEqual(Math.max(...arrival.slice(-16)));
  }, 300_000);

  it('keeps the most valuable samples when the outbox fills during an outage, and counts the rest', async () => {
    const { stack, link } = await setUpBehindProxy({ OUTBOX_MAX_SAMPLES: '20' });
    await stack.startCloud();
    await stack.startAgent();
    link.cut();
    const { failedCalls } = await stack.inspectAll(await images(60));
    expect(failedCalls).toBe(0);
    await eventually(async () => expect(await stack.metric('loupe_agent_outbox_dropped_total{reason="outbox_full"}')).toBe(40), {
      timeoutMs: 30_000,
    });
    expect(await stack.metric('loupe_agent_outbox_samples')).toBe(20);

    link.restore();
    const audit = await stack.audit(objectStore.writes);
    expectEveryAcceptedSampleOnce('outbox full during a link cut', audit);
    expect(audit.stored).toBe(20);
    const kept = new Set(await stack.storedIds());
    const byValue = [...stack.priorities.entries()].sort((a, b) => b[1] - a[1]);
    const threshold = byValue[19]![1];
    for (const [id, priority] of byValue) {
      if (priority > threshold) expect(kept.has(id), `sample with priority ${priority} was dropped`).toBe(true);
      if (priority < threshold) expect(kept.has(id), `sample with priority ${priority} was kept`).toBe(false);
    }
  }, 300_000);
});

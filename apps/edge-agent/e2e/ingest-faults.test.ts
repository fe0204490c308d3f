import {
  itWhere,
  mosquittoPath,
  postgresProcessUnavailable,
  startBrokerProcess,
  startObjectStoreProcess,
  startPostgresProcess,
  startTestBroker,
  startTestDatabase,
  startTestObjectStore,
  type BrokerProcess,
  type ObjectStoreProcess,
  type PostgresProcess,
  type TestBroker,
  type TestDatabase,
  type TestObjectStore,
} from '@loupe/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAudit, type DeliveryAudit } from './delivery-audit';
import { DeliveryStack, images } from './delivery-stack';

const BURST = 200;
/** The fault comes this far into the burst, while the cloud still has most of it to store. */
const FAULT_AT = 60;
const OUTAGE_MS = 2_000;

/** Shared subscriptions are MQTT 5: the broker at MQTT_URL, or a Mosquitto of the test's own; Aedes has none. */
const sharedSubscriptions =
  process.env.MQTT_URL || mosquittoPath()
    ? undefined
    : 'needs a broker with MQTT 5 shared subscriptions: set MQTT_URL, or install mosquitto (Aedes, the embedded broker, has none)';

/**
 * The fault matrix's legs on the cloud's side of ingest (docs/testing.md):
 * PostgreSQL crashed and restarted, the S3 server killed and restarted, and
 * one of two cloud replicas sharing the subscription killed, each in the
 * middle of a burst from a real agent. Every accepted sample id is counted
 * against the rows and images stored (DeliveryStack.audit).
 */
describe('ingest through faults of the services behind the cloud', () => {
  const cleanUp: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanUp.splice(0).reverse()) await step();
  });

  async function started<T extends { stop(): Promise<void> }>(service: Promise<T>): Promise<T> {
    const running = await service;
    cleanUp.push(() => running.stop());
    return running;
  }

  function expectEveryAcceptedSampleOnce(leg: string, audit: DeliveryAudit): void {
    process.stdout.write(`${describeAudit(leg, audit)}\n`);
    expect({ lost: audit.lost, duplicated: audit.duplicated, unexplained: audit.unexplained, damaged: audit.damaged }).toEqual({
      lost: [],
      duplicated: [],
      unexplained: [],
      damaged: [],
    });
    expect(audit.accepted).toBe(BURST);
  }

  /** Runs a burst, calling `fault` once FAULT_AT inspections were answered; resolves when both are done. */
  async function burstWithFault(stack: DeliveryStack, fault: () => Promise<void>): Promise<{ storedAtFault: number }> {
    let during: Promise<number> | undefined;
    await stack.inspectAll(await images(BURST), (done) => {
      if (done !== FAULT_AT || during) return;
      during = stack.storedIds().then(async (ids) => {
        await fault();
        return ids.length;
      });
    });
    return { storedAtFault: await during! };
  }

  itWhere(postgresProcessUnavailable(), 'stores every accepted sample once when PostgreSQL crashes and restarts during ingest', async () => {
    const postgres: PostgresProcess = await started(startPostgresProcess());
    const [broker, objectStore]: [TestBroker, TestObjectStore] = await Promise.all([started(startTestBroker()), started(startTestObjectStore())]);
    const stack = await started(DeliveryStack.start({ database: { url: postgres.url, maxConnections: 8 }, broker, objectStore }));
    await stack.startCloud();
    await stack.startAgent();
    const { storedAtFault } = await burstWithFault(stack, async () => {
      await postgres.crash();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await postgres.restart();
    });
    expect(storedAtFault).toBeLessThan(BURST);
    expectEveryAcceptedSampleOnce('PostgreSQL crashed (immediate shutdown) and restarted', await stack.audit(objectStore.writes));
  }, 300_000);

  it('stores every accepted sample once when the S3 server is killed and restarted during ingest', async () => {
    const objectStore: ObjectStoreProcess = await started(startObjectStoreProcess());
    const [database, broker]: [TestDatabase, TestBroker] = await Promise.all([started(startTestDatabase()), started(startTestBroker())]);
    const stack = await started(DeliveryStack.start({ database, broker, objectStore }));
    await stack.startCloud();
    await stack.startAgent();
    const { storedAtFault } = await burstWithFault(stack, async () => {
      await objectStore.kill();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await objectStore.restart();
    });
    expect(storedAtFault).toBeLessThan(BURST);
    expectEveryAcceptedSampleOnce('S3 server (s3rver) killed and restarted', await stack.audit(objectStore.writes));
  }, 300_000);

  itWhere(sharedSubscriptions, 'stores every accepted sample once when one of two cloud replicas sharing the subscription is killed mid-burst', async () => {
    let broker: { url: string; topicRoot: string; kind: string };
    if (process.env.MQTT_URL) broker = await started(startTestBroker());
    else {
      const own: BrokerProcess = await started(startBrokerProcess());
      broker = { url: own.url, topicRoot: 'loupe/v1', kind: own.kind };
    }
    const [database, objectStore]: [TestDatabase, TestObjectStore] = await Promise.all([started(startTestDatabase()), started(startTestObjectStore())]);
    const stack = await started(DeliveryStack.start({ database, broker, objectStore }));
    const doomed = await stack.startCloud();
    await stack.startCloud();
    await stack.startAgent();
    const { storedAtFault } = await burstWithFault(stack, async () => {
      expect(await doomed.stop('SIGKILL')).toBe(137);
    });
    expect(storedAtFault).toBeLessThan(BURST);
    expectEveryAcceptedSampleOnce(`one of two cloud replicas SIGKILLed (broker: ${broker.kind})`, await stack.audit(objectStore.writes));
  }, 300_000);
});

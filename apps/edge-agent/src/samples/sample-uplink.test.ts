import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttLink, TopicRouter, type MqttMessageHandler } from '@loupe/mqtt';
import { Backoff } from '@loupe/service';
import { SampleAck, SampleUpload } from '@loupe/proto';
import { eventually as eventuallyOn, startTestBroker, uniqueName, type TestBroker } from '@loupe/testing';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SampleOutbox, type OutboxLimits, type QuarantineReason } from './sample-outbox';
import { countsAsAttempt, SampleUplink, whyUnsendable, type UplinkSettings } from './sample-uplink';

const logger = pino({ level: 'silent' });
const topics = { samples: 'loupe/bench/aoi-1/samples', acks: 'loupe/bench/aoi-1/acks' };
const limits: OutboxLimits = {
  maxBytes: 1 << 30,
  maxCount: 10_000,
  maxPendingWrites: 1_000,
  maxPendingBytes: 1 << 30,
  diskReserveBytes: 0,
  quarantine: { maxBytes: 1 << 30, maxCount: 1_000 },
};
const NO_UPLINK_EVENTS = { published: () => undefined, acknowledged: () => undefined, resent: () => undefined };

/** An encoded SampleUpload of `id`, padded with an image to `bytes`. */
function uploadOf(id: string, bytes = 0): Buffer {
  return Buffer.from(SampleUpload.encode(SampleUpload.fromPartial({ sampleId: id, image: Buffer.alloc(bytes, 1), attempt: 1 })).finish());
}

/** A connected link whose broker takes every publish at once, and which can hand the uplink a message. */
class FakeLink extends EventEmitter {
  readonly connected = true;
  readonly published: Buffer[] = [];
  private readonly router = new TopicRouter();

  onMessage(filter: string, handler: MqttMessageHandler): void {
    this.router.onMessage(filter, handler);
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  publish(_topic: string, payload: Buffer): Promise<void> {
    this.published.push(payload);
    return Promise.resolve();
  }

  acknowledge(payloads: Buffer[], rejected: Buffer[] = []): void {
    const sampleIds = payloads.map((payload) => SampleUpload.decode(payload).sampleId);
    const refused = rejected.map((payload) => ({ sampleId: SampleUpload.decode(payload).sampleId, reason: 'invalid' }));
    const ack = Buffer.from(SampleAck.encode(SampleAck.fromPartial({ sampleIds, rejected: refused })).finish());
    this.router.deliver(topics.acks, ack, undefined as never, (error) => {
      throw error;
    });
  }
}

async function eventually(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Long enough for a pump that overfilled its window to have published. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('SampleUplink', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  /** An uplink over an outbox holding `count` SampleUploads of `bytes` bytes each, most valuable first; `before` writes into its folder first. */
  async function uplinkWith(count: number, bytes: number, settings: Partial<UplinkSettings>, before?: (directory: string) => Promise<void>) {
    const directory = await mkdtemp(join(tmpdir(), 'loupe-uplink-'));
    await before?.(directory);
    const quarantined: { id: string; reason: QuarantineReason }[] = [];
    const outbox = await SampleOutbox.open(
      directory,
      limits,
      { dropped: () => undefined, quarantined: (sample, reason) => quarantined.push({ id: sample.id, reason }) },
      logger,
    );
    await Promise.all(
      Array.from({ length: count }, (_, index) => {
        const id = `sample-${String(index).padStart(3, '0')}`;
        return outbox.offer({ id, priority: 1 - index / 1_000, capturedAtMs: 1_700_000_000_000 }, uploadOf(id, bytes - 20));
      }),
    );
    const link = new FakeLink();
    const uplink = new SampleUplink(
      link as unknown as MqttLink,
      outbox,
      topics,
      { window: 1_000, windowBytes: 1 << 30, ackTimeoutMs: 60_000, bytesPerSecond: 0, maxAttempts: 10, ...settings },
      NO_UPLINK_EVENTS,
      logger,
    );
    await uplink.start();
    stops.push(async () => {
      await uplink.stop();
      await rm(directory, { recursive: true, force: true });
    });
    return { link, outbox, quarantined, directory };
  }

  const idsOf = (payloads: Buffer[]) => payloads.map((payload) => SampleUpload.decode(payload).sampleId);

  it('keeps its window full, most valuable first, and refills it as the cloud acknowledges', async () => {
    const { link, outbox } = await uplinkWith(40, 100, { window: 16 });
    await eventually(() => link.published.length === 16);
    await settle();
    expect(link.published).toHaveLength(16);
    expect(idsOf(link.published)).toEqual(Array.from({ length: 16 }, (_, i) => `sample-${String(i).padStart(3, '0')}`));

    link.acknowledge(link.published.slice(0, 5));
    await eventually(() => link.published.length === 21);
    await settle();
    expect(link.published).toHaveLength(21);
    await eventually(() => outbox.count === 35);
  });

  it('stops at its byte budget once a sample crosses it', async () => {
    const { link } = await uplinkWith(10, 100, { windowBytes: 250 });
    await eventually(() => link.published.length === 3);
    await settle();
    expect(link.published).toHaveLength(3);

    link.acknowledge(link.published.slice(0, 1));
    await eventually(() => link.published.length === 4);
    await settle();
    expect(link.published).toHaveLength(4);
  });

  it('quarantines an outbox entry that is not a SampleUpload of its sample, and sends the rest', async () => {
    const { link, outbox, quarantined } = await uplinkWith(2, 100, {}, async (directory) => {
      await mkdir(join(directory, 'ready'));
      await writeFile(join(directory, 'ready', '0900000_1700000000000_garbage.sample'), Buffer.from([0xff, 0xff, 0xff]));
      await writeFile(join(directory, 'ready', '0800000_1700000000000_impostor.sample'), uploadOf('someone-else'));
    });
    await eventually(() => link.published.length === 2 && quarantined.length === 2);
    expect(idsOf(link.published)).toEqual(['sample-000', 'sample-001']);
    expect(quarantined).toEqual([
      { id: 'garbage', reason: 'undecodable' },
      { id: 'impostor', reason: 'undecodable' },
    ]);
    // Closing waits for the moves into quarantine/ to finish.
    await outbox.close();
    expect(outbox.quarantinedCount).toBe(2);
  });

  it('quarantines a sample the cloud refuses instead of deleting or resending it', async () => {
    const { link, outbox, quarantined, directory } = await uplinkWith(3, 100, { ackTimeoutMs: 100 });
    await eventually(() => link.published.length === 3);
    link.acknowledge([link.published[0]!, link.published[2]!], [link.published[1]!]);
    await eventually(() => outbox.count === 0 && quarantined.length === 1);
    expect(quarantined).toEqual([{ id: 'sample-001', reason: 'rejected' }]);
    await outbox.close();
    expect(await readdir(join(directory, 'quarantine', 'rejected'))).toEqual(['0999000_1700000000000_sample-001.sample']);
    await settle();
    expect(link.published).toHaveLength(3);
  });
});

describe('what counts against a sample', () => {
  it('counts an ack timeout as an attempt only when the cloud acknowledged something after the broker took the sample', () => {
    expect(countsAsAttempt(1_000, 1_500)).toBe(true);
    expect(countsAsAttempt(1_000, 900)).toBe(false);
    expect(countsAsAttempt(1_000, Number.NEGATIVE_INFINITY)).toBe(false);
    // Never taken by the broker: never counted.
    expect(countsAsAttempt(Number.POSITIVE_INFINITY, 1_500)).toBe(false);
  });

  it('passes a SampleUpload of its own sample and explains anything else, never throwing on damaged bytes', () => {
    const id = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
    const stored = { id, priority: 0.5, capturedAtMs: 1_700_000_000_000, bytes: 0, attempts: 0 };
    const valid = uploadOf(id, 64);
    expect(whyUnsendable(stored, valid)).toBeUndefined();
    expect(whyUnsendable(stored, uploadOf('other'))).toMatch(/^a SampleUpload of sample "other"/);
    expect(whyUnsendable(stored, Buffer.alloc(0))).toMatch(/^a SampleUpload of sample ""/);
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), (cut, flips) => {
        const damaged = Buffer.from(valid.subarray(0, cut));
        for (const [at, bits] of flips) if (at < damaged.length) damaged[at]! ^= bits;
        const reason = whyUnsendable(stored, damaged);
        // Sendable only if it still decodes as this very sample; the cloud judges the rest.
        if (reason === undefined) expect(SampleUpload.decode(damaged).sampleId).toBe(id);
        else expect(reason.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('SampleUplink on a real broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker?.stop());

  it('delivers every good sample, and quarantines a garbled entry unsent, a refused sample at once and a poison one after exactly its attempts', async () => {
    const device = uniqueName('aoi');
    const deviceTopics = { samples: `${broker.topicRoot}/plant-7/${device}/samples`, acks: `${broker.topicRoot}/plant-7/${device}/acks` };
    const directory = await mkdtemp(join(tmpdir(), 'loupe-uplink-broker-'));
    await (await SampleOutbox.open(directory, limits, { dropped: () => undefined, quarantined: () => undefined }, logger)).close();
    await writeFile(join(directory, 'ready', '0950000_1700000000000_garbled.sample'), 'not protobuf at all');
    const quarantined: { id: string; reason: QuarantineReason }[] = [];
    const outbox = await SampleOutbox.open(directory, limits, { dropped: () => undefined, quarantined: (sample, reason) => quarantined.push({ id: sample.id, reason }) }, logger);
    const offer = (id: string, priority: number) => outbox.offer({ id, priority, capturedAtMs: 1_700_000_000_000 }, uploadOf(id, 1_000));
    const good = Array.from({ length: 20 }, (_, index) => `good-${index}`);
    await Promise.all([...good.map((id) => offer(id, 0.5)), offer('poison', 0.9), offer('refused', 0.8)]);

    // The cloud: stores good samples, refuses 'refused', and never answers 'poison', as a cloud that cannot take
    // a sample behaves. Each time the poison comes, the line produces one more good sample, whose ack is the
    // evidence that the cloud is answering while the poison waits.
    const seen = new Map<string, number>();
    const cloud = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: uniqueName('cloud') });
    cloud.on('message', (_topic, payload) => {
      const { sampleId } = SampleUpload.decode(payload);
      seen.set(sampleId, (seen.get(sampleId) ?? 0) + 1);
      if (sampleId === 'poison') {
        const id = `fresh-${seen.get('poison')}`;
        good.push(id);
        void offer(id, 0.1).then(() => uplink.notify());
        return;
      }
      const ack = sampleId === 'refused' ? { rejected: [{ sampleId, reason: 'invalid' }] } : { sampleIds: [sampleId] };
      void cloud.publishAsync(deviceTopics.acks, Buffer.from(SampleAck.encode(SampleAck.fromPartial(ack)).finish()), { qos: 1 });
    });
    await cloud.subscribeAsync(deviceTopics.samples, { qos: 1 });

    const link = new MqttLink({ url: broker.url, clientId: uniqueName('uplink'), persistentSession: false, backoff: new Backoff({ initialMs: 20, maxMs: 200 }), logger });
    const uplink = new SampleUplink(link, outbox, deviceTopics, { window: 8, windowBytes: 1 << 20, ackTimeoutMs: 1_500, bytesPerSecond: 0, maxAttempts: 3 }, NO_UPLINK_EVENTS, logger);
    try {
      await uplink.start();
      link.start();
      await eventuallyOn(() => expect(quarantined.map((entry) => entry.id).sort()).toEqual(['garbled', 'poison', 'refused']), { timeoutMs: 20_000 });
      await eventuallyOn(() => expect(outbox.count).toBe(0), { timeoutMs: 20_000 });
      expect(Object.fromEntries(quarantined.map((entry) => [entry.id, entry.reason]))).toEqual({ garbled: 'undecodable', refused: 'rejected', poison: 'attempts' });
      expect(seen.get('poison')).toBe(3);
      expect(seen.get('refused')).toBe(1);
      expect(seen.has('garbled')).toBe(false);
      expect([...seen.keys()].filter((id) => id !== 'poison' && id !== 'refused').sort()).toEqual([...good].sort());
      await outbox.close();
      expect((await readdir(join(directory, 'quarantine', 'attempts'))).map((name) => name.split('_')[2])).toEqual(['poison.sample']);
    } finally {
      await uplink.stop();
      await link.stop();
      await cloud.endAsync();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

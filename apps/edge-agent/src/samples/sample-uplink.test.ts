import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttLink, MqttMessageHandler } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SampleOutbox } from './sample-outbox';
import { SampleUplink, type UplinkSettings } from './sample-uplink';

const logger = pino({ level: 'silent' });
const topics = { samples: 'loupe/bench/aoi-1/samples', acks: 'loupe/bench/aoi-1/acks' };

/** A connected link whose broker takes every publish at once, and which can hand the uplink a message. */
class FakeLink extends EventEmitter {
  readonly connected = true;
  readonly published: Buffer[] = [];
  private handler: MqttMessageHandler | undefined;

  onMessage(handler: MqttMessageHandler): void {
    this.handler = handler;
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  publish(_topic: string, payload: Buffer): Promise<void> {
    this.published.push(payload);
    return Promise.resolve();
  }

  acknowledge(payloads: Buffer[]): void {
    const sampleIds = payloads.map((payload) => payload.toString().replace(/\.+$/, ''));
    this.handler?.(topics.acks, Buffer.from(SampleAck.encode(SampleAck.fromPartial({ sampleIds })).finish()), undefined as never);
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

  /** An uplink over an outbox holding `count` samples of `bytes` bytes each, the payload naming the sample. */
  async function uplinkWith(count: number, bytes: number, settings: Partial<UplinkSettings>) {
    const directory = await mkdtemp(join(tmpdir(), 'loupe-uplink-'));
    const outbox = await SampleOutbox.open(
      directory,
      { maxBytes: 1 << 30, maxCount: 10_000, maxPendingWrites: 1_000, maxPendingBytes: 1 << 30 },
      { dropped: () => undefined },
      logger,
    );
    await Promise.all(
      Array.from({ length: count }, (_, index) => {
        const id = `sample-${String(index).padStart(3, '0')}`;
        return outbox.offer({ id, priority: 1 - index / 1_000, capturedAtMs: 1_700_000_000_000 }, Buffer.from(id.padEnd(bytes, '.')));
      }),
    );
    const link = new FakeLink();
    const events = { published: () => undefined, acknowledged: () => undefined, rejected: () => undefined, resent: () => undefined };
    const uplink = new SampleUplink(
      link as unknown as MqttLink,
      outbox,
      topics,
      { window: 1_000, windowBytes: 1 << 30, ackTimeoutMs: 60_000, bytesPerSecond: 0, ...settings },
      events,
      logger,
    );
    await uplink.start();
    stops.push(async () => {
      await uplink.stop();
      await rm(directory, { recursive: true, force: true });
    });
    return { link, outbox };
  }

  it('keeps its window full, most valuable first, and refills it as the cloud acknowledges', async () => {
    const { link, outbox } = await uplinkWith(40, 100, { window: 16 });
    await eventually(() => link.published.length === 16);
    await settle();
    expect(link.published).toHaveLength(16);
    expect(link.published.map((payload) => payload.toString().slice(0, 10))).toEqual(Array.from({ length: 16 }, (_, i) => `sample-${String(i).padStart(3, '0')}`));

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
});

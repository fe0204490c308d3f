import { eventually } from '@loupe/testing';
import fc from 'fast-check';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerGate, type EmbeddedBroker } from './embedded-broker';
import { MqttFrameReader } from './packet-size-limit';

const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: 't/x', payload: Buffer.alloc(bytes), qos: 1, messageId: 7, dup: false, retain: false });
const ping = () => mqttPacket.generate({ cmd: 'pingreq' });

describe('MqttFrameReader', () => {
  it('finds the first packet over the limit however the stream is cut into chunks, and nothing in a stream within it', () => {
    const packet = fc.oneof(fc.nat({ max: 40_000 }).map(publish), fc.constant(ping()));
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 5_000 }), { maxLength: 40 }), fc.integer({ min: 2, max: 30_000 }), (packets, cuts, limit) => {
        const stream = Buffer.concat(packets);
        const reader = new MqttFrameReader(limit);
        let found: number | undefined;
        let at = 0;
        for (const size of [...cuts, stream.length]) {
          if (found !== undefined || at >= stream.length) break;
          found = reader.oversize(stream.subarray(at, at + size));
          at += size;
        }
        expect(found).toBe(packets.find((each) => each.length > limit)?.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the embedded broker with a packet size limit', () => {
  let broker: EmbeddedBroker;
  const MAX = 4 * 1024;
  const anyone: BrokerGate = { connect: () => Promise.resolve({ principal: { kind: 'service' } }), allows: () => true };

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPacketBytes: MAX }, anyone, pino({ level: 'silent' }));
  });
  afterAll(() => broker?.stop());

  it('closes the connection of a client that sends a larger packet, delivers none of it, and goes on serving the others', async () => {
    const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'sub', reconnectPeriod: 0 });
    const received: number[] = [];
    subscriber.on('message', (_topic, payload) => received.push(payload.length));
    await subscriber.subscribeAsync('limits/#', { qos: 1 });
    const big = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'big', reconnectPeriod: 0 });
    await big.publishAsync('limits/a', Buffer.alloc(MAX - 100), { qos: 1 });
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('limits/a', Buffer.alloc(MAX + 1), { qos: 1 }, () => undefined);
    await closed;
    const small = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'small', reconnectPeriod: 0 });
    await small.publishAsync('limits/b', Buffer.alloc(10), { qos: 1 });
    // The oversize packet came before the small one, so it would be here by now.
    await eventually(() => expect(received).toContain(10));
    expect(received).toEqual([MAX - 100, 10]);
    big.end(true);
    await Promise.all([subscriber.endAsync(), small.endAsync()]);
  });
});

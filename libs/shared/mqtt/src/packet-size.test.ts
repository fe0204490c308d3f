import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PACKET_BYTES, maxPacketBytesFor, publishPacketBytes } from './packet-size';

describe('publishPacketBytes', () => {
  it('counts a PUBLISH packet to the byte, as mqtt-packet encodes it, on both protocol versions', () => {
    const payloadBytes = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(124, 125, 126, 16_380, 16_384, 2_097_140, 2_097_152));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), payloadBytes, fc.constantFrom(0 as const, 1 as const), fc.constantFrom(4 as const, 5 as const), (topic, bytes, qos, protocolVersion) => {
        const packet = { cmd: 'publish' as const, topic, payload: Buffer.alloc(bytes), qos, dup: false, retain: false, ...(qos > 0 ? { messageId: 1 } : {}) };
        expect(publishPacketBytes(topic, bytes, qos, protocolVersion)).toBe(mqttPacket.generate(packet, { protocolVersion }).length);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves a sample of the largest default size room for its topic', () => {
    const topic = `loupe/v1/${'s'.repeat(64)}/${'d'.repeat(64)}/samples`;
    expect(publishPacketBytes(topic, 16 * 1024 * 1024, 1, 5)).toBeLessThanOrEqual(DEFAULT_MAX_PACKET_BYTES);
    expect(maxPacketBytesFor(1_000)).toBe(1_000 + 64 * 1024);
  });
});

/**
 * Room for a PUBLISH packet's own bytes beside its payload: fixed header,
 * topic name (at most 65,535 bytes, MQTT 5 section 1.5.4), packet id and
 * properties. A broker or client whose limit is a payload limit plus this
 * never refuses a payload within that limit for its packaging.
 */
const PACKET_OVERHEAD_BYTES = 64 * 1024;

/** The packet limit that lets a payload of `payloadBytes` through, and nothing much larger. */
export function maxPacketBytesFor(payloadBytes: number): number {
  return payloadBytes + PACKET_OVERHEAD_BYTES;
}

/**
 * Loupe's largest message is a sample upload, at most the cloud's
 * SAMPLE_MAX_BYTES (16 MiB by default); nothing else comes near it.
 */
export const DEFAULT_MAX_PACKET_BYTES = maxPacketBytesFor(16 * 1024 * 1024);

/**
 * The size of a PUBLISH packet (MQTT 5 sections 2.1, 3.3): fixed header byte,
 * Remaining Length as a variable byte integer, topic with its 2-byte length,
 * packet id for QoS 1, an empty property length on MQTT 5, the payload.
 */
export function publishPacketBytes(topic: string, payloadBytes: number, qos: 0 | 1, protocolVersion: 4 | 5): number {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payloadBytes;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}

/**
 * The broker said it takes no packet this large (its CONNACK's Maximum
 * Packet Size, MQTT 5 section 3.2.2.3.6); sending it would only get the
 * connection closed. Not sent; the caller decides what to do with it.
 */
export class MqttPacketTooLargeError extends Error {
  constructor(
    topic: string,
    readonly packetBytes: number,
    readonly maxBytes: number,
  ) {
    super(`a publish to ${topic} would be ${packetBytes} bytes; the broker takes packets up to ${maxBytes} bytes`);
    this.name = 'MqttPacketTooLargeError';
  }
}

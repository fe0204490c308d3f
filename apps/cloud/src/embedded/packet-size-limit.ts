import type { Socket } from 'node:net';
import { Duplex, Transform } from 'node:stream';

/**
 * Follows the MQTT packets in a byte stream by their fixed headers (MQTT
 * 3.1.1 section 2.2: a type byte, then the Remaining Length in one to four
 * bytes of seven bits each) without parsing them, to see each packet's size
 * before any of it is buffered.
 */
export class MqttFrameReader {
  /** Body bytes of the current packet still to come. */
  private remaining = 0;
  private inLength = false;
  private length = 0;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** The size of the first packet this chunk announces beyond the limit, if any. */
  oversize(chunk: Uint8Array): number | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const taken = Math.min(this.remaining, chunk.length - at);
        this.remaining -= taken;
        at += taken;
        continue;
      }
      const byte = chunk[at++]!;
      if (!this.inLength) {
        this.inLength = true;
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes++;
      // A fifth length byte is malformed (section 1.5.5); the broker's parser refuses it.
      if (byte & 0x80 && this.lengthBytes < 4) continue;
      this.inLength = false;
      const packetBytes = 1 + this.lengthBytes + this.length;
      if (packetBytes > this.maxPacketBytes) return packetBytes;
      this.remaining = this.length;
    }
    return undefined;
  }
}

/**
 * The socket as the broker should see it: its bytes pass through a check,
 * and at the header of a packet larger than `maxPacketBytes` the connection
 * is closed before the broker reads any of that packet, so nobody can make
 * it buffer one. MQTT 3.1.1 has no way to tell the client why; MQTT 5 would
 * send DISCONNECT 0x95 (Packet too large).
 */
export function withPacketSizeLimit(socket: Socket, maxPacketBytes: number, onOversize: (packetBytes: number) => void): Duplex {
  const frames = new MqttFrameReader(maxPacketBytes);
  let refused = false;
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const oversize = refused ? undefined : frames.oversize(chunk);
      if (oversize !== undefined) {
        refused = true;
        onOversize(oversize);
        socket.destroy();
      }
      done(null, refused ? undefined : chunk);
    },
  });
  socket.pipe(checked);
  socket.once('close', () => checked.destroy());
  return Duplex.from({ readable: checked, writable: socket });
}

/**
 * What a client sends, split into messages: the PostgreSQL frontend
 * protocol 3.0 (https://www.postgresql.org/docs/current/protocol-message-formats.html).
 * A connection opens with untyped messages (an int32 length, then an int32
 * code), and every message after StartupMessage is a type byte, an int32
 * length that counts itself, and the body.
 */

const PROTOCOL_3_0 = 196608;
const CANCEL_REQUEST = 80877102;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** PostgreSQL's own limits: MAX_STARTUP_PACKET_LENGTH and PQ_LARGE_MESSAGE_LIMIT. */
const MAX_STARTUP_BYTES = 10_000;
const MAX_MESSAGE_BYTES = 0x3fffffff;

/**
 * Every message type a client may send after startup. PostgreSQL ends the
 * connection on any other; so do we, before PGlite sees it.
 */
const FRONTEND_TYPES = new Set('BCdcfDEHFPpQSX');

export type FrontendMessage =
  /** StartupMessage, whole, as PGlite reads it. */
  | { kind: 'startup'; bytes: Buffer }
  /** SSLRequest or GSSENCRequest: answered with a single 'N' (not supported), after which the client sends StartupMessage. */
  | { kind: 'encryption-request' }
  /** CancelRequest, on a connection of its own. */
  | { kind: 'cancel' }
  /** A typed message, whole (type byte, length and body). */
  | { kind: 'typed'; type: string; bytes: Buffer };

/** A client broke the protocol; the connection ends with this message, as PostgreSQL's does. */
export class ProtocolViolationError extends Error {}

/** Splits one connection's byte stream into whole messages. */
export class FrontendReader {
  private buffered: Buffer = Buffer.alloc(0);
  private started = false;

  /** The whole messages completed by `chunk`, in order; a partial one waits for the next chunk. */
  push(chunk: Buffer): FrontendMessage[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: FrontendMessage[] = [];
    for (;;) {
      const message = this.started ? this.nextTyped() : this.nextUntyped();
      if (!message) return messages;
      messages.push(message);
    }
  }

  private nextUntyped(): FrontendMessage | undefined {
    if (this.buffered.length < 8) return undefined;
    const length = this.buffered.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_BYTES) throw new ProtocolViolationError(`invalid length of startup packet: ${length}`);
    if (this.buffered.length < length) return undefined;
    const bytes = this.take(length);
    const code = bytes.readInt32BE(4);
    switch (code) {
      case PROTOCOL_3_0:
        this.started = true;
        return { kind: 'startup', bytes };
      case SSL_REQUEST:
      case GSSENC_REQUEST:
        return { kind: 'encryption-request' };
      case CANCEL_REQUEST:
        return { kind: 'cancel' };
      default:
        throw new ProtocolViolationError(`unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0`);
    }
  }

  private nextTyped(): FrontendMessage | undefined {
    if (this.buffered.length < 5) return undefined;
    const type = String.fromCharCode(this.buffered[0]!);
    if (!FRONTEND_TYPES.has(type)) throw new ProtocolViolationError(`invalid frontend message type ${this.buffered[0]}`);
    const length = this.buffered.readInt32BE(1);
    if (length < 4 || length > MAX_MESSAGE_BYTES) throw new ProtocolViolationError(`invalid message length ${length}`);
    if (this.buffered.length < 1 + length) return undefined;
    return { kind: 'typed', type, bytes: this.take(1 + length) };
  }

  private take(bytes: number): Buffer {
    const taken = this.buffered.subarray(0, bytes);
    this.buffered = this.buffered.subarray(bytes);
    return taken;
  }
}

/** A typed message from its type and body. */
export function typedMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

export const cstring = (text: string | Buffer) => Buffer.concat([Buffer.from(text), Buffer.alloc(1)]);

export const syncMessage = () => typedMessage('S', Buffer.alloc(0));
export const queryMessage = (sql: string) => typedMessage('Q', cstring(sql));
/** CopyFail ends copy-in mode; outside it PostgreSQL ignores the message. */
export const copyFailMessage = (reason: string) => typedMessage('f', cstring(reason));
export const closeStatementMessage = (name: Buffer) => typedMessage('C', Buffer.concat([Buffer.from('S'), cstring(name)]));

/** A backend ErrorResponse (severity FATAL), what PostgreSQL sends before it ends a connection. */
export function fatalError(sqlState: string, message: string): Buffer {
  const field = (code: string, value: string) => Buffer.concat([Buffer.from(code), cstring(value)]);
  return typedMessage('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlState), field('M', message), Buffer.alloc(1)]));
}

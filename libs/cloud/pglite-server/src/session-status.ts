/** Messages the backend may send at any moment, which say nothing about where a conversation stands. */
const ASYNCHRONOUS = new Set(['A', 'N', 'S'].map((type) => type.charCodeAt(0)));
const READY_FOR_QUERY = 'Z'.charCodeAt(0);

/**
 * Where the shared session stands, read from everything the backend sends.
 * It is idle when the last message that was not asynchronous is
 * ReadyForQuery with status 'I': no transaction block, no extended-protocol
 * sequence waiting for its Sync, no COPY in progress. ReadyForQuery's 'T'
 * (in a transaction) and 'E' (in a failed one) are not idle, and neither is
 * anything after a message that ReadyForQuery has not yet followed.
 */
export class SessionStatus {
  /** Bytes of the current message's header (type and length) read so far. */
  private header: Buffer = Buffer.alloc(0);
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  /** The type of the message being read. */
  private current = READY_FOR_QUERY;
  /** The type of the last message that was not asynchronous. */
  private type = READY_FOR_QUERY;
  private status = 'I';

  get idle(): boolean {
    return this.type === READY_FOR_QUERY && this.status === 'I';
  }

  /** 'I', 'T' or 'E' as the last ReadyForQuery said. */
  get transactionStatus(): string {
    return this.status;
  }

  observe(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const body = Math.min(this.remaining, chunk.length - offset);
        // ReadyForQuery's body is its one status byte.
        if (this.current === READY_FOR_QUERY && this.remaining === 1) this.status = String.fromCharCode(chunk[offset]!);
        this.remaining -= body;
        offset += body;
        continue;
      }
      const needed = 5 - this.header.length;
      const taken = chunk.subarray(offset, offset + needed);
      this.header = Buffer.concat([this.header, taken]);
      offset += taken.length;
      if (this.header.length < 5) return;
      this.current = this.header[0]!;
      if (!ASYNCHRONOUS.has(this.current)) this.type = this.current;
      this.remaining = this.header.readInt32BE(1) - 4;
      this.header = Buffer.alloc(0);
    }
  }
}

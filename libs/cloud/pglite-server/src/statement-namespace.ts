import { createHash } from 'node:crypto';
import { closeStatementMessage, cstring, ProtocolViolationError, syncMessage, typedMessage } from './frontend-messages';

/** PostgreSQL keeps NAMEDATALEN - 1 bytes of a prepared statement's name and ignores the rest. */
const NAME_BYTES = 63;

/**
 * One connection's own prepared-statement names on a session every
 * connection shares. On a real server each connection starts with no named
 * statements and loses them when it closes; on one PGlite session a name
 * prepared by one connection would clash with the same name prepared by
 * another (node-postgres prepares a name once per connection and then only
 * binds it). So every statement name in Parse, Bind, Describe and Close is
 * prefixed with the connection's own tag, and `closeAll()` removes what the
 * connection left behind. The unnamed statement needs no prefix: it lives
 * only until the next Parse, and the session belongs to one connection from
 * its first message until it is idle again.
 *
 * Names given in SQL (PREPARE, EXECUTE, DEALLOCATE) are not rewritten.
 */
export class StatementNamespace {
  private readonly prepared = new Set<string>();

  constructor(private readonly tag: string) {}

  /** The message as the shared session must see it. */
  rewrite(type: string, message: Buffer): Buffer {
    switch (type) {
      case 'P': {
        const [name, rest] = splitCString(message, 5);
        const own = this.own(name);
        if (own.length > 0) this.prepared.add(own.toString('latin1'));
        return typedMessage('P', Buffer.concat([cstring(own), rest]));
      }
      case 'B': {
        const [portal, afterPortal] = splitCString(message, 5);
        const [name, rest] = splitCString(afterPortal, 0);
        return typedMessage('B', Buffer.concat([cstring(portal), cstring(this.own(name)), rest]));
      }
      case 'D':
      case 'C': {
        if (message[5] !== 'S'.charCodeAt(0)) return message;
        const [name] = splitCString(message, 6);
        const own = this.own(name);
        if (type === 'C') this.prepared.delete(own.toString('latin1'));
        return typedMessage(type, Buffer.concat([Buffer.from('S'), cstring(own)]));
      }
      default:
        return message;
    }
  }

  /** Close for every statement this connection prepared and did not close, then Sync; empty if there are none. */
  closeAll(): Buffer {
    if (this.prepared.size === 0) return Buffer.alloc(0);
    const closes = [...this.prepared].map((name) => closeStatementMessage(Buffer.from(name, 'latin1')));
    this.prepared.clear();
    return Buffer.concat([...closes, syncMessage()]);
  }

  /**
   * The tag, then the name as PostgreSQL would keep it. Where that is too
   * long, its end is replaced by a hash of the whole kept name, so two names
   * the server tells apart stay apart.
   */
  private own(name: Buffer): Buffer {
    if (name.length === 0) return name;
    const kept = name.subarray(0, NAME_BYTES);
    const tagged = Buffer.concat([Buffer.from(this.tag), kept]);
    if (tagged.length <= NAME_BYTES) return tagged;
    const hash = createHash('sha256').update(kept).digest('hex').slice(0, 16);
    return Buffer.concat([tagged.subarray(0, NAME_BYTES - hash.length - 1), Buffer.from(`~${hash}`)]);
  }
}

/** The NUL-terminated string at `from`, and what follows its terminator. */
function splitCString(buffer: Buffer, from: number): [Buffer, Buffer] {
  const end = buffer.indexOf(0, from);
  if (end < 0) throw new ProtocolViolationError('invalid string in message');
  return [buffer.subarray(from, end), buffer.subarray(end + 1)];
}

import pg from 'pg';
import { BlobConflictError, BlobRefusedError, InvalidBlobKeyError } from '../blobs/blob-store';

/**
 * What a failure to store a sample says about whom to blame.
 * - `content`: this sample's bytes or values were refused; storing it again
 *   fails again. It is dead-lettered and refused to its device.
 * - `infrastructure`: the cloud's own database, blob store or disk failed; the
 *   same sample will store once they are back. The message is left for the
 *   broker to deliver again.
 * - `unknown`: neither could be told. Delivered again, like infrastructure,
 *   but counted per sample, so one that keeps failing alone ends up refused.
 */
export type FailureKind = 'content' | 'infrastructure' | 'unknown';

// SQLSTATE classes (PostgreSQL manual, appendix A). 22 data exception (NUL
// in text, a value out of range), 23 integrity constraint violation, 54
// program limit exceeded (a value too large to index or store).
const CONTENT_CLASSES = new Set(['22', '23', '54']);
// 08 connection exception, 40 transaction rollback (serialization, deadlock:
// worth trying again), 53 insufficient resources (disk full, out of
// memory, too many connections), 55 object not in prerequisite state (lock
// not available), 57 operator intervention (shutdown, statement timeout),
// 58 system error (I/O), XX internal error.
const INFRASTRUCTURE_CLASSES = new Set(['08', '40', '53', '55', '57', '58', 'XX']);

// Errors of the network and the filesystem that say nothing about the sample.
const SYSTEM_FAILURES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EACCES', 'EPERM', 'EBUSY', 'ENOMEM', 'ESTALE',
]);

// node-postgres reports a connection lost mid-query or a full pool in plain Errors.
const PG_CONNECTION_LOST = /Connection terminated|Connection ended unexpectedly|connection error|not queryable|timeout exceeded when trying to connect/i;

export function classifyStorageFailure(error: unknown): FailureKind {
  if (error instanceof BlobConflictError || error instanceof BlobRefusedError || error instanceof InvalidBlobKeyError) return 'content';
  if (error instanceof pg.DatabaseError && error.code) {
    const sqlClass = error.code.slice(0, 2);
    if (CONTENT_CLASSES.has(sqlClass)) return 'content';
    if (INFRASTRUCTURE_CLASSES.has(sqlClass)) return 'infrastructure';
    return 'unknown';
  }
  if (!(error instanceof Error)) return 'unknown';
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && SYSTEM_FAILURES.has(code)) return 'infrastructure';
  if (PG_CONNECTION_LOST.test(error.message)) return 'infrastructure';
  // The AWS SDK's own errors that were not refusals of the object (those
  // became BlobRefusedError): the store is down, throttling or denying us.
  if ((error as { $metadata?: unknown }).$metadata !== undefined || error.name === 'TimeoutError') return 'infrastructure';
  return 'unknown';
}

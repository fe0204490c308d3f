import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BlobConflictError, BlobRefusedError, InvalidBlobKeyError } from '../blobs/blob-store';
import { classifyStorageFailure } from './storage-failure';

function postgresError(code: string, message = 'refused'): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
}

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code} happened`), { code });
}

describe('classifyStorageFailure', () => {
  it("blames a sample's content for data exceptions, integrity violations and limits, and for blob refusals", () => {
    for (const code of ['22021', '22P05', '22003', '22008', '23505', '23514', '54000']) expect(classifyStorageFailure(postgresError(code))).toBe('content');
    expect(classifyStorageFailure(new BlobConflictError('samples/a.jpg'))).toBe('content');
    expect(classifyStorageFailure(new BlobRefusedError('samples/a.jpg', 'EntityTooLarge'))).toBe('content');
    expect(classifyStorageFailure(new InvalidBlobKeyError('../a'))).toBe('content');
  });

  it("blames the cloud's own services for connection, resource, shutdown and I/O failures", () => {
    for (const code of ['08006', '08001', '53100', '53300', '57P01', '57P03', '57014', '40001', '40P01', '58030', 'XX000']) {
      expect(classifyStorageFailure(postgresError(code))).toBe('infrastructure');
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOSPC', 'EDQUOT', 'EIO', 'EROFS']) expect(classifyStorageFailure(systemError(code))).toBe('infrastructure');
    expect(classifyStorageFailure(new Error('Connection terminated unexpectedly'))).toBe('infrastructure');
    expect(classifyStorageFailure(new Error('timeout exceeded when trying to connect'))).toBe('infrastructure');
    const s3Down = Object.assign(new Error('We encountered an internal error'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(classifyStorageFailure(s3Down)).toBe('infrastructure');
  });

  it('cannot place a syntax error, an undefined table or an error of no known kind', () => {
    expect(classifyStorageFailure(postgresError('42601'))).toBe('unknown');
    expect(classifyStorageFailure(postgresError('42P01'))).toBe('unknown');
    expect(classifyStorageFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe('unknown');
    expect(classifyStorageFailure('a string')).toBe('unknown');
  });
});

import { status as GrpcStatus } from '@grpc/grpc-js';
import { DamagedImageError, DeadlineExceededError, InvalidImageError, NoActiveModelError, QueueFullError } from '@loupe/inference';
import { describe, expect, it } from 'vitest';
import { InvalidInspectRequestError, toInspectFailure } from './inspect-errors';

// The codes and metric labels Inspect answered before its errors were DomainErrors (docs/inspect.md, Refusals).
const FAILURES: [Error, GrpcStatus, string][] = [
  [new InvalidInspectRequestError('station_id is required'), GrpcStatus.INVALID_ARGUMENT, 'invalid_argument'],
  [new InvalidImageError('not an image'), GrpcStatus.INVALID_ARGUMENT, 'invalid_argument'],
  [new DamagedImageError('cut short'), GrpcStatus.INVALID_ARGUMENT, 'invalid_argument'],
  [new QueueFullError(256), GrpcStatus.RESOURCE_EXHAUSTED, 'resource_exhausted'],
  [new DeadlineExceededError(), GrpcStatus.DEADLINE_EXCEEDED, 'deadline_exceeded'],
  [new NoActiveModelError(), GrpcStatus.UNAVAILABLE, 'unavailable'],
  [new Error('onnxruntime failed'), GrpcStatus.INTERNAL, 'internal'],
];

describe('toInspectFailure', () => {
  it.each(FAILURES.map(([error, code, kind]) => [error.name, error, code, kind] as const))('answers %s with status %i, counted as %s', (_name, error, code, kind) => {
    const failure = toInspectFailure(error);
    expect(failure.answer.code).toBe(code);
    expect(failure.kind).toBe(kind);
  });

  it('says what the caller can change, and hides the agent’s own faults', () => {
    expect(toInspectFailure(new QueueFullError(256)).answer.details).toMatch(/inference queue is full/);
    expect(toInspectFailure(new Error('onnxruntime failed')).message).toBe('the agent failed to judge this image; its log has the details');
  });
});

import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DOMAIN_ERROR_KINDS, DomainError, grpcErrorOf, grpcStatusOf, httpStatusOf, REASON_TRAILER, type DomainErrorKind } from './domain-error';

// Written out rather than derived, so a changed status is a visible change here too.
const TABLE: [DomainErrorKind, number, GrpcStatus][] = [
  ['invalid', 400, GrpcStatus.INVALID_ARGUMENT],
  ['unauthenticated', 401, GrpcStatus.UNAUTHENTICATED],
  ['forbidden', 403, GrpcStatus.PERMISSION_DENIED],
  ['not_found', 404, GrpcStatus.NOT_FOUND],
  ['conflict', 409, GrpcStatus.ABORTED],
  ['refused', 422, GrpcStatus.FAILED_PRECONDITION],
  ['too_large', 413, GrpcStatus.RESOURCE_EXHAUSTED],
  ['too_many', 429, GrpcStatus.RESOURCE_EXHAUSTED],
  ['unavailable', 503, GrpcStatus.UNAVAILABLE],
  ['deadline', 504, GrpcStatus.DEADLINE_EXCEEDED],
];

class TestRefusal extends DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    override readonly reason?: string,
  ) {
    super(message);
  }
}

describe('the domain error kinds', () => {
  it('are each in the table once', () => {
    expect(TABLE.map(([kind]) => kind).sort()).toEqual([...DOMAIN_ERROR_KINDS].sort());
  });

  it.each(TABLE)('%s is HTTP %i and gRPC status %i', (kind, http, grpc) => {
    expect(httpStatusOf(kind)).toBe(http);
    expect(grpcStatusOf(kind)).toBe(grpc);
  });
});

describe('a domain error', () => {
  it('is named after its class, without the class saying so', () => {
    class SubRefusal extends TestRefusal {}
    expect(new TestRefusal('refused', 'no').name).toBe('TestRefusal');
    expect(new SubRefusal('refused', 'no').name).toBe('SubRefusal');
    expect(String(new TestRefusal('refused', 'no'))).toBe('TestRefusal: no');
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('disk full');
    class Wrapped extends DomainError {
      readonly kind = 'unavailable';
    }
    expect(new Wrapped('storage is unavailable', { cause }).cause).toBe(cause);
  });
});

describe('grpcErrorOf', () => {
  it('answers the kind’s status with the message as details, and no trailer without a reason', () => {
    const answer = grpcErrorOf(new TestRefusal('not_found', 'no model pcb-aoi in the registry'));
    expect(answer).toMatchObject({ code: GrpcStatus.NOT_FOUND, message: 'no model pcb-aoi in the registry', details: 'no model pcb-aoi in the registry' });
    expect(answer.metadata).toBeUndefined();
  });

  it('carries the reason in the refusal trailer', () => {
    const answer = grpcErrorOf(new TestRefusal('refused', 'the package is not signed', 'unsigned'));
    expect(answer.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(answer.metadata?.get(REASON_TRAILER)).toEqual(['unsigned']);
  });
});

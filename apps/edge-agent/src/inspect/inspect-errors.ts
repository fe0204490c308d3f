import { status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';
import { DomainError, grpcErrorOf } from '@loupe/service';

/** A request the agent refuses before it reaches the model. */
export class InvalidInspectRequestError extends DomainError {
  readonly kind = 'invalid';
}

export interface InspectFailure {
  /** What a unary call is answered with. */
  answer: ServerErrorResponse & { code: GrpcStatus };
  /** Metric label, and in upper case a stream answer's error code: invalid_argument, resource_exhausted, ..., internal. */
  kind: string;
  message: string;
}

const INTERNAL_MESSAGE = 'the agent failed to judge this image; its log has the details';

/** Inspect errors as gRPC answers: a DomainError by its kind (@loupe/service), anything else as the agent's own fault. */
export function toInspectFailure(error: unknown): InspectFailure {
  const answer = error instanceof DomainError ? grpcErrorOf(error) : { name: 'InternalError', code: GrpcStatus.INTERNAL, message: INTERNAL_MESSAGE, details: INTERNAL_MESSAGE };
  return { answer, kind: GrpcStatus[answer.code].toLowerCase(), message: answer.message };
}

import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DeadlineExceededError, InvalidImageError, NoActiveModelError, QueueFullError } from '@loupe/inference';

/** A request the agent refuses before it reaches the model. */
export class InvalidInspectRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInspectRequestError';
  }
}

export interface InspectFailure {
  code: GrpcStatus;
  /** Metric label: invalid_argument, resource_exhausted, ... */
  kind: string;
  message: string;
}

/** The one place Inspect errors become gRPC status codes. */
export function toInspectFailure(error: unknown): InspectFailure {
  if (error instanceof InvalidImageError || error instanceof InvalidInspectRequestError) {
    return { code: GrpcStatus.INVALID_ARGUMENT, kind: 'invalid_argument', message: error.message };
  }
  if (error instanceof QueueFullError) return { code: GrpcStatus.RESOURCE_EXHAUSTED, kind: 'resource_exhausted', message: error.message };
  if (error instanceof DeadlineExceededError) return { code: GrpcStatus.DEADLINE_EXCEEDED, kind: 'deadline_exceeded', message: error.message };
  if (error instanceof NoActiveModelError) return { code: GrpcStatus.UNAVAILABLE, kind: 'unavailable', message: error.message };
  return { code: GrpcStatus.INTERNAL, kind: 'internal', message: 'the agent failed to judge this image; its log has the details' };
}

export function toServiceError(failure: InspectFailure): Partial<ServiceError> {
  return { code: failure.code, details: failure.message, message: failure.message };
}

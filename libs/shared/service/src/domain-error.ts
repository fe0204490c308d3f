import { Metadata, status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';

/**
 * What went wrong, in words no transport owns. Closed on purpose: a new kind
 * must be given a status in both tables below, and the compiler says so.
 */
export const DOMAIN_ERROR_KINDS = ['invalid', 'unauthenticated', 'forbidden', 'not_found', 'conflict', 'refused', 'too_large', 'too_many', 'unavailable', 'deadline'] as const;
export type DomainErrorKind = (typeof DOMAIN_ERROR_KINDS)[number];

/**
 * A failure the caller can act on, raised by domain code that knows nothing
 * of HTTP or gRPC. Each transport maps `kind` once (the cloud's exception
 * filter, every gRPC service through `grpcErrorOf`); anything that is not a
 * DomainError is a fault of ours and is answered as an internal error.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** A stable code for scripts (`hash-mismatch`, `token-used`); the HTTP body's `error` and the gRPC `loupe-refusal` trailer carry it. */
  readonly reason?: string;
  /** How long the caller should wait before trying again (HTTP Retry-After). */
  readonly retryAfterSeconds?: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Logs and gRPC answers name the error by its class, and each subclass need not say so again.
    this.name = new.target.name;
  }
}

const HTTP_STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  refused: 422,
  too_many: 429,
  unavailable: 503,
  deadline: 504,
};

// FAILED_PRECONDITION for `refused`: the request was understood and is refused for what it holds, which is what the registry has always answered.
// ABORTED for `conflict`: google.rpc.Code maps HTTP 409 to it, and the caller's next step is to reread and retry at a higher level.
const GRPC_STATUS: Record<DomainErrorKind, GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  forbidden: GrpcStatus.PERMISSION_DENIED,
  not_found: GrpcStatus.NOT_FOUND,
  conflict: GrpcStatus.ABORTED,
  too_large: GrpcStatus.RESOURCE_EXHAUSTED,
  refused: GrpcStatus.FAILED_PRECONDITION,
  too_many: GrpcStatus.RESOURCE_EXHAUSTED,
  unavailable: GrpcStatus.UNAVAILABLE,
  deadline: GrpcStatus.DEADLINE_EXCEEDED,
};

export const httpStatusOf = (kind: DomainErrorKind): number => HTTP_STATUS[kind];

export const grpcStatusOf = (kind: DomainErrorKind): GrpcStatus => GRPC_STATUS[kind];

/** The trailer a gRPC error carries its DomainError's `reason` in. */
export const REASON_TRAILER = 'loupe-refusal';

/** A DomainError as a gRPC service answers it: the kind's status, the message as details, the reason in a trailer. */
export function grpcErrorOf(error: DomainError): ServerErrorResponse & { code: GrpcStatus } {
  const answer = { name: error.name, code: grpcStatusOf(error.kind), message: error.message, details: error.message };
  if (error.reason === undefined) return answer;
  const metadata = new Metadata();
  metadata.set(REASON_TRAILER, error.reason);
  return { ...answer, metadata };
}

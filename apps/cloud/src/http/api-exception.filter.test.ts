import { status as GrpcStatus } from '@grpc/grpc-js';
import { PackageRefusedError } from '@loupe/model-package';
import { DOMAIN_ERROR_KINDS, DomainError, grpcErrorOf, grpcStatusOf, httpStatusOf, REASON_TRAILER, type DomainErrorKind } from '@loupe/service';
import type { ArgumentsHost } from '@nestjs/common';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LoginFailedError } from '../auth/auth.service';
import { NotSignedInError, RoleRefusedError } from '../auth/authorize';
import { SignInBusyError } from '../auth/hashing-slots';
import { EmailTakenError } from '../auth/user.repository';
import { BrokerConfigUnavailableError, DeviceNotEnrolledError, EnrollmentRefusedError } from '../fleet/identity/identity.errors';
import { DynamicSecurityError } from '../fleet/identity/mosquitto-dynamic-security';
import { UndeployableVersionError } from '../fleet/state/desired-models';
import { AlreadyAnsweredError, NoAnswerToUndoError, UndoRefusedError } from '../labeling/labeling-queue';
import { ProjectNotFoundError, ProjectTakenError } from '../labeling/project.repository';
import { LeaseLostError } from '../labeling/task-leases';
import { ModelVersionNotFoundError } from '../registry/model-registry';
import { ModelRefusedError } from '../registry/package-validation';
import { InvalidRolloutPlanError } from '../rollouts/rollout-plan';
import { RolloutConflictError, RolloutNotFoundError, RolloutRefusedError } from '../rollouts/rollout-errors';
import { UnknownCanaryError } from '../rollouts/stage-assignment';
import { ApiExceptionFilter } from './api-exception.filter';
import { BodyTooLargeError } from './streamed-body';

/** What the filter answered: status, headers and body. */
function answer(exception: unknown) {
  const sent: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  const reply = {
    header: (name: string, value: string) => ((sent.headers[name] = value), reply),
    status: (code: number) => ((sent.status = code), reply),
    send: (body: unknown) => ((sent.body = body), reply),
  };
  const request = { method: 'GET', url: '/api/anything', id: 'req-1' };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ApiExceptionFilter(pino({ level: 'silent' })).catch(exception, host);
  return sent;
}

// The `error` an answer without a reason carries, by kind.
const ERROR_CODE: Record<DomainErrorKind, string> = {
  invalid: 'invalid_request',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  not_found: 'not_found',
  conflict: 'conflict',
  refused: 'refused',
  too_large: 'too_large',
  too_many: 'too_many_requests',
  unavailable: 'unavailable',
  deadline: 'deadline_exceeded',
};

class ThrownInAHandler extends DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    override readonly reason?: string,
    override readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

describe('a DomainError thrown in a handler', () => {
  it('is answered with its kind’s status on HTTP and on gRPC, with its message and reason', () => {
    const reason = fc.stringMatching(/^[a-z]+(-[a-z]+)*$/);
    fc.assert(
      fc.property(fc.constantFrom(...DOMAIN_ERROR_KINDS), fc.string(), fc.option(reason, { nil: undefined }), fc.option(fc.nat(3600), { nil: undefined }), (kind, message, why, retryAfter) => {
        const thrown = (() => {
          try {
            throw new ThrownInAHandler(kind, message, why, retryAfter);
          } catch (error) {
            return error;
          }
        })();
        const http = answer(thrown);
        expect(http.status).toBe(httpStatusOf(kind));
        expect(http.body).toEqual({ statusCode: httpStatusOf(kind), error: why ?? ERROR_CODE[kind], message });
        expect(http.headers['retry-after']).toBe(retryAfter === undefined ? undefined : String(retryAfter));
        const grpc = grpcErrorOf(thrown as DomainError);
        expect(grpc).toMatchObject({ code: grpcStatusOf(kind), details: message });
        expect(grpc.metadata?.get(REASON_TRAILER)).toEqual(why === undefined ? undefined : [why]);
      }),
    );
  });

  it('is not confused with a fault of ours, which is answered 500 without its message', () => {
    const http = answer(new Error('connection reset by the database'));
    expect(http.status).toBe(500);
    expect(http.body).toMatchObject({ error: 'internal_error', message: expect.stringContaining('request id req-1') as unknown });
  });
});

// The statuses the filter's table of error names gave before DomainError, so each class keeps its answer.
const CLOUD_ERRORS: [DomainError, number, GrpcStatus][] = [
  [new LoginFailedError(), 401, GrpcStatus.UNAUTHENTICATED],
  [new NotSignedInError('sign in first'), 401, GrpcStatus.UNAUTHENTICATED],
  [new RoleRefusedError('this needs the role admin'), 403, GrpcStatus.PERMISSION_DENIED],
  [new EmailTakenError('a@b.c'), 409, GrpcStatus.ABORTED],
  [new ProjectTakenError({ name: 'p', modelName: 'm', task: 'classification', classes: ['ok', 'ng'], consensus: 1 }), 409, GrpcStatus.ABORTED],
  [new ProjectNotFoundError('p1'), 404, GrpcStatus.NOT_FOUND],
  [new LeaseLostError('s1'), 409, GrpcStatus.ABORTED],
  [new PackageRefusedError('unsigned', 'not signed'), 422, GrpcStatus.FAILED_PRECONDITION],
  [new PackageRefusedError('too-large', 'too many bytes'), 413, GrpcStatus.RESOURCE_EXHAUSTED],
  [new ModelRefusedError('golden-mismatch', 'scores are off'), 422, GrpcStatus.FAILED_PRECONDITION],
  [new ModelVersionNotFoundError('pcb-aoi', 3), 404, GrpcStatus.NOT_FOUND],
  [new AlreadyAnsweredError('s1'), 409, GrpcStatus.ABORTED],
  [new UndoRefusedError('settled'), 409, GrpcStatus.ABORTED],
  [new NoAnswerToUndoError('s1'), 404, GrpcStatus.NOT_FOUND],
  [new EnrollmentRefusedError('token-used'), 403, GrpcStatus.PERMISSION_DENIED],
  [new DeviceNotEnrolledError('plant-7', 'box-1'), 404, GrpcStatus.NOT_FOUND],
  [new BrokerConfigUnavailableError('no broker'), 409, GrpcStatus.ABORTED],
  [new DynamicSecurityError('timed out'), 503, GrpcStatus.UNAVAILABLE],
  [new InvalidRolloutPlanError(['stages: required']), 400, GrpcStatus.INVALID_ARGUMENT],
  [new UnknownCanaryError(['plant-7/box-9'], 'line-3'), 422, GrpcStatus.FAILED_PRECONDITION],
  [new UndeployableVersionError('pcb-aoi', 2, 'no signed ONNX file'), 422, GrpcStatus.FAILED_PRECONDITION],
  [new RolloutNotFoundError('r1'), 404, GrpcStatus.NOT_FOUND],
  [new RolloutConflictError('paused already'), 409, GrpcStatus.ABORTED],
  [new RolloutRefusedError('no devices'), 422, GrpcStatus.FAILED_PRECONDITION],
  [new SignInBusyError(), 503, GrpcStatus.UNAVAILABLE],
  [new BodyTooLargeError({ setting: 'MAX_BODY_BYTES', maxBytes: 10 }), 413, GrpcStatus.RESOURCE_EXHAUSTED],
];

describe('the cloud’s domain errors', () => {
  it.each(CLOUD_ERRORS.map(([error, http, grpc]) => [error.name, error, http, grpc] as const))('%s is HTTP %i and gRPC status %i', (_name, error, http, grpc) => {
    expect(answer(error).status).toBe(http);
    expect(grpcErrorOf(error).code).toBe(grpc);
  });

  it('keep their reason as the answer’s error code, and Retry-After where they say when to retry', () => {
    expect(answer(new EnrollmentRefusedError('token-used')).body).toMatchObject({ statusCode: 403, error: 'token-used' });
    expect(answer(new PackageRefusedError('too-large', 'too many bytes')).body).toMatchObject({ statusCode: 413, error: 'too-large' });
    expect(answer(new SignInBusyError()).headers).toEqual({ 'retry-after': '1' });
  });
});

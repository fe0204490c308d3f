import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { ApiError } from '@loupe/api-contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { fastifyAdvice } from './error-replies';

const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'refused',
  429: 'too_many_requests',
  431: 'headers_too_large',
  500: 'internal_error',
  503: 'unavailable',
};

/** An answer in the ApiError shape, its `error` code named for its status. */
export const apiError = (statusCode: number, message: string): ApiError => ({ statusCode, error: ERROR_CODES[statusCode] ?? 'error', message });

// Domain errors by name, so the domain code needs no HTTP types.
const DOMAIN_ERRORS: Record<string, number> = {
  LoginFailedError: 401,
  EmailTakenError: 409,
  ProjectTakenError: 409,
  ProjectNotFoundError: 404,
  LeaseLostError: 409,
  PackageRefusedError: 422,
  ModelRefusedError: 422,
  ModelVersionNotFoundError: 404,
  AlreadyAnsweredError: 409,
  UndoRefusedError: 409,
  NoAnswerToUndoError: 404,
  EnrollmentRefusedError: 403,
  DeviceNotEnrolledError: 404,
  BrokerConfigUnavailableError: 409,
  DynamicSecurityError: 503,
  InvalidRolloutPlanError: 400,
  UnknownCanaryError: 422,
  UndeployableVersionError: 422,
  RolloutNotFoundError: 404,
  RolloutConflictError: 409,
  RolloutRefusedError: 422,
  SignInBusyError: 503,
  BodyTooLargeError: 413,
};

/**
 * The one place errors become HTTP answers, all in the ApiError shape.
 * Domain errors get their status here as later features add them; anything
 * unexpected is logged with the request and answered 500 without internals.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toApiError(exception, request);
    const retryAfter = (exception as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    void reply.status(body.statusCode).send(body);
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    const domain = exception instanceof Error ? DOMAIN_ERRORS[exception.name] : undefined;
    if (domain) {
      // A refusal's own reason code (e.g. a model package's `hash-mismatch`) tells scripts more than the status.
      const reason = (exception as { reason?: unknown }).reason;
      const statusCode = reason === 'too-large' ? HttpStatus.PAYLOAD_TOO_LARGE : domain;
      return { statusCode, error: typeof reason === 'string' ? reason : (ERROR_CODES[statusCode] ?? 'error'), message: (exception as Error).message };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const message =
        statusCode === 404 && exception.message.startsWith('Cannot ')
          ? `no route for ${request.method} ${request.url}`
          : (fastifyAdvice(exception.cause) ?? exception.message);
      return { statusCode, error: ERROR_CODES[statusCode] ?? 'error', message };
    }
    this.logger.error({ err: exception, method: request.method, url: request.url, requestId: request.id }, 'request failed');
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'internal_error',
      message: `the cloud failed to answer; the log has the details under request id ${request.id}`,
    };
  }
}

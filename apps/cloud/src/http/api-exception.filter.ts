import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { ApiError } from '@loupe/api-contracts';
import { DomainError, httpStatusOf } from '@loupe/service';
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
  504: 'deadline_exceeded',
};

/** An answer in the ApiError shape, its `error` code named for its status. */
export const apiError = (statusCode: number, message: string): ApiError => ({ statusCode, error: ERROR_CODES[statusCode] ?? 'error', message });

/**
 * The one place errors become HTTP answers, all in the ApiError shape.
 * A DomainError is answered with its kind's status and its reason as
 * `error`; anything unexpected is logged with the request and answered 500
 * without internals.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toApiError(exception, request);
    if (exception instanceof DomainError && exception.retryAfterSeconds !== undefined) void reply.header('retry-after', String(exception.retryAfterSeconds));
    void reply.status(body.statusCode).send(body);
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof DomainError) {
      const statusCode = httpStatusOf(exception.kind);
      // A refusal's own reason code (e.g. a model package's `hash-mismatch`) tells scripts more than the status.
      return { statusCode, error: exception.reason ?? ERROR_CODES[statusCode] ?? 'error', message: exception.message };
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

import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/** Routes NestJS's own messages into the process's pino logger. */
export class NestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ component: context ?? 'nest' }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ component: context ?? 'nest', trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ component: context ?? 'nest' }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ component: context ?? 'nest' }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ component: context ?? 'nest' }, String(message));
  }
}

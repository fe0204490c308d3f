import { ConfigError } from '@loupe/config';
import type { Logger } from 'pino';
import { createLogger, type LogLevel } from './logger';

/** Exit code for a configuration the process cannot run with (sysexits.h EX_CONFIG). */
export const EXIT_CONFIG = 78;

export interface ServiceDefinition<Config> {
  /** The app name on every log line, e.g. `cloud`. */
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): Config;
  logLevel(config: Config): LogLevel;
  shutdownTimeoutMs(config: Config): number;
  start(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }>;
}

/**
 * Runs a long-lived process the same way for every app: read the config
 * once (a bad key exits 78 with a message naming it), start, and on SIGINT
 * or SIGTERM stop gracefully within the shutdown timeout.
 */
export async function runService<Config>(definition: ServiceDefinition<Config>): Promise<void> {
  let config: Config;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  const logger = createLogger(definition.name, definition.logLevel(config));
  let service: { stop(): Promise<void> };
  try {
    service = await definition.start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.stderr.write(`loupe ${definition.name} failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timeoutMs = definition.shutdownTimeoutMs(config);
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The root logger of one process: JSON lines on stdout, with the app name on
 * every line. Components take a child (`logger.child({ component })`) and add
 * their correlation ids (device, sample, rollout) the same way.
 */
export function createLogger(app: string, level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['*.password', '*.secret', '*.token', '*.secretAccessKey'], censor: '[redacted]' },
    },
    destination,
  );
}

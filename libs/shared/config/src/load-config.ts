import type { z } from 'zod';

export interface ConfigIssue {
  /** The environment variable at fault, e.g. `MQTT_URL`. */
  key: string;
  message: string;
}

/** Thrown at boot when the environment does not describe a runnable app. */
export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${app}: invalid configuration\n` +
        issues.map((issue) => `  ${issue.key}: ${issue.message}`).join('\n') +
        '\nSee docs/configuration.md for every setting and its default.',
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads an app's settings from the environment once, at boot. The schema's
 * keys are the environment variable names, so every error names the key to
 * fix. Unknown `LOUPE_*`-style variables are ignored: the environment is
 * shared with the rest of the machine.
 */
export function loadConfig<Schema extends z.ZodObject>(
  app: string,
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    app,
    result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(environment)');
      const got = typeof present[key] === 'string' ? ` (got "${present[key]}")` : '';
      return { key, message: `${issue.message}${got}` };
    }),
  );
}

import { ConfigError, envUrl, loadConfig } from '@loupe/config';
import { z } from 'zod';
import { UsageError } from '../exit-code';

export const DEFAULT_CLOUD_URL = 'http://127.0.0.1:8080';

const HELP = 'Give the base URL of the cloud, e.g. --cloud-url http://127.0.0.1:8080';

const cloudUrlSchema = envUrl(['http', 'https']);
const cliConfigSchema = z.object({ LOUPE_CLOUD_URL: cloudUrlSchema.default(DEFAULT_CLOUD_URL) });

/**
 * The cloud to talk to: `--cloud-url`, else `LOUPE_CLOUD_URL`, else the local
 * development default. The environment is only read when the flag is absent,
 * so a flag can work around a broken variable.
 */
export function resolveCloudUrl(flag: string | undefined, env: NodeJS.ProcessEnv): URL {
  return asBaseUrl(flag === undefined ? fromEnvironment(env) : fromFlag(flag));
}

function fromFlag(flag: string): string {
  const result = cloudUrlSchema.safeParse(flag);
  if (result.success) return result.data;
  throw new UsageError(`--cloud-url ${result.error.issues[0]?.message ?? 'is invalid'} (got "${flag}")`, HELP);
}

function fromEnvironment(env: NodeJS.ProcessEnv): string {
  try {
    return loadConfig('loupe', cliConfigSchema, env).LOUPE_CLOUD_URL;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.issues.map((issue) => `${issue.key} ${issue.message}`).join('; ');
    throw new UsageError(`${problems}; fix it or pass --cloud-url`, HELP);
  }
}

// API paths are resolved relative to the base, so a cloud served under a
// path prefix (https://factory.example/loupe) keeps its prefix.
function asBaseUrl(value: string): URL {
  const url = new URL(value);
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

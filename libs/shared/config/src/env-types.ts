import { z } from 'zod';

/** A URL whose scheme is one of `protocols`, e.g. `['mqtt', 'mqtts']`. */
export function envUrl(protocols: readonly string[]) {
  const accepted = protocols.map((protocol) => `${protocol}://`).join(', ');
  return z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      return protocols.includes(new URL(value).protocol.slice(0, -1));
    },
    { message: `must be a URL starting with ${accepted}` },
  );
}

/** A TCP port; 0 lets the operating system choose. */
export function envPort() {
  return z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535');
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`), as people write them in env files. */
export function envBoolean() {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
}

/**
 * A duration written as a number with a unit: `500ms`, `10s`, `5m`, `1h`.
 * Give defaults with `.prefault('10s')` so they go through the same parsing.
 */
export function envDurationMs() {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  return z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'must be a duration such as 500ms, 10s, 5m or 1h')
    .transform((value) => {
      const [, amount = '0', unit = 'ms'] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value) ?? [];
      return Math.round(Number(amount) * (units[unit] ?? 1));
    });
}

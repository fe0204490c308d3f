import type { MODEL_ALIAS_NAMES, ModelVersionDto } from '@loupe/api-contracts';
import type { ModelSummary } from './models-api';

type ModelAlias = (typeof MODEL_ALIAS_NAMES)[number];

// The alias a person looks for first comes first: what the line runs, then
// what is about to. A record, so a new alias in the contract fails to compile
// here until it has a place.
const ALIAS_RANK: Record<ModelAlias, number> = { production: 0, staging: 1, candidate: 2, archived: 3 };

/** Where a model's aliases point, e.g. `production v3 · staging v4`; a dash when none does. */
export function aliasSummary(aliases: ModelSummary['aliases']): string {
  const pointing = (Object.keys(aliases) as ModelAlias[]).filter((alias) => aliases[alias] !== undefined);
  if (pointing.length === 0) return '-';
  return pointing
    .sort((a, b) => ALIAS_RANK[a] - ALIAS_RANK[b])
    .map((alias) => `${alias} v${aliases[alias]}`)
    .join(' · ');
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/**
 * A size in decimal units (1 MB = 1,000,000 bytes, as disks and most tools
 * count): three significant digits at most, so `1.2 MB`, `12 MB`, `123 MB`.
 */
export function byteSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  // Rounds before choosing the unit, so 999,999 bytes read `1.0 MB`, not `1000 kB`.
  while (unit < BYTE_UNITS.length - 1 && Number(rounded(value)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : rounded(value)} ${BYTE_UNITS[unit]}`;
}

const rounded = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0));

// Twelve hex digits tell versions apart at a glance; the full hash is for
// comparing with `sha256sum`, so the page keeps it in a title.
const SHORT_HASH_DIGITS = 12;

export function shortHash(sha256: string): string {
  return sha256.length <= SHORT_HASH_DIGITS ? sha256 : `${sha256.slice(0, SHORT_HASH_DIGITS)}…`;
}

/** What validation on upload found, e.g. `8 golden samples checked on cpu in 412 ms`. */
export function validationSummary({ provider, goldenSamples, checkMs }: ModelVersionDto['validation']): string {
  const samples = goldenSamples === 0 ? 'No golden samples' : goldenSamples === 1 ? '1 golden sample' : `${goldenSamples} golden samples`;
  return `${samples} checked on ${provider} in ${Math.round(checkMs)} ms`;
}

/** The metrics by name, so two versions list them in the same order. */
export function metricList(metrics: ModelVersionDto['metrics']): { name: string; value: number }[] {
  return Object.entries(metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

/**
 * An instant from the cloud in the viewer's own time zone, to the minute:
 * `2026-11-22 13:05`. Year first, so it reads the same in every locale.
 */
export function localMinute(iso: string): string {
  const at = new Date(iso);
  const two = (part: number) => String(part).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

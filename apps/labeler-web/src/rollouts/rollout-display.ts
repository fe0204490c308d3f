import type { RolloutDto } from '@loupe/api-contracts';

/** `rolling_back` as people write it: `rolling back`. */
export const stateLabel = (state: RolloutDto['state']): string => state.replaceAll('_', ' ');

/** `v3 → v4` */
export const versionChange = ({ fromVersion, toVersion }: Pick<RolloutDto, 'fromVersion' | 'toVersion'>): string => `v${fromVersion} → v${toVersion}`;

type Plain = string | number | boolean | null;
const isPlain = (value: unknown): value is Plain => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/**
 * An audit event's detail in one line: its plain fields as `key: value`,
 * lists of plain values joined. Nested records (the cohorts and checks a
 * gate verdict keeps) are left to the event's full JSON, which the page
 * keeps in a title.
 */
export function eventSummary(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .flatMap(([key, value]) => {
      if (isPlain(value)) return [`${key}: ${String(value)}`];
      if (Array.isArray(value) && value.every(isPlain)) return [`${key}: ${value.map(String).join(', ')}`];
      return [];
    })
    .join(' · ');
}

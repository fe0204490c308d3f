import type { DeviceDto } from '@loupe/api-contracts';
import { byDeviceOrder, lastSeenAgo, modelLabel } from '@loupe/device-display';

const HEADINGS = ['SITE', 'DEVICE', 'GROUP', 'AGENT', 'MODEL', 'PROVIDER', 'LAST SEEN', 'UPDATE'];

/** The device list as aligned columns, by site and then device. */
export function formatDeviceTable(devices: readonly DeviceDto[], now: Date): string {
  const rows = [...devices].sort(byDeviceOrder).map((device) => deviceRow(device, now));
  return formatColumns([HEADINGS, ...rows]);
}

function deviceRow(device: DeviceDto, now: Date): string[] {
  return [
    device.siteId,
    device.deviceId,
    groupLabel(device),
    device.agentVersion ?? '-',
    modelLabel(device),
    device.provider ?? '-',
    device.lastSeenAt === null ? 'never' : lastSeenAgo(new Date(device.lastSeenAt), now),
    device.reported?.status ?? '-',
  ].map(printable);
}

/** One device, every fact the cloud has about it, one per line. */
export function formatDeviceDetail(device: DeviceDto, now: Date): string {
  const { desired, reported, stats } = device;
  const lines: [string, string][] = [
    ['Device', `${device.siteId}/${device.deviceId}`],
    ['Fleet group', groupLabel(device)],
    ['Enrolled', device.enrolledAt ?? '-'],
    ['Agent', device.agentVersion ?? '-'],
    ['Model', modelLabel(device)],
    ['Provider', device.provider ?? '-'],
    ['First seen', device.firstSeenAt ?? 'never'],
    ['Last seen', device.lastSeenAt === null ? 'never' : `${device.lastSeenAt} (${lastSeenAgo(new Date(device.lastSeenAt), now)})`],
    ['Desired', desired ? `${refLabel(desired.model)} (generation ${desired.generation}, rollout ${desired.rolloutId || '-'})` : '-'],
    ['Update status', reported ? `${reported.status} at ${reported.reportedAt}` : 'not reported'],
    ['Active', refLabel(reported?.active ?? null)],
    ['Previous', refLabel(reported?.previous ?? null)],
    ['Error', reported?.error || '-'],
    [
      'Statistics',
      stats
        ? `${stats.inspections} inspections, ${stats.rejects} rejects, ${stats.uncertain} uncertain, ${stats.errors} errors, p99 ${stats.p99Ms} ms`
        : '-',
    ],
  ];
  return formatColumns(lines.map(([label, value]) => [`${label}:`, printable(value)]));
}

/** A device that never enrolled takes no model updates; a revoked one may no longer sign in. */
function groupLabel(device: DeviceDto): string {
  if (device.fleetGroup === null) return '-';
  return device.revoked ? `${device.fleetGroup} (revoked)` : device.fleetGroup;
}

const refLabel = (ref: { name: string; version: string } | null) => (ref === null ? '-' : `${ref.name}@${ref.version}`);

// Devices choose their own versions and provider names; an escape sequence
// in one must not repaint the operator's terminal.
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function formatColumns(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

import type { DeviceDto } from '@loupe/api-contracts';
import { byDeviceOrder, lastSeenAgo, modelLabel } from '@loupe/device-display';

const HEADINGS = ['SITE', 'DEVICE', 'AGENT', 'MODEL', 'PROVIDER', 'LAST SEEN'];

/** The device list as aligned columns, by site and then device. */
export function formatDeviceTable(devices: readonly DeviceDto[], now: Date): string {
  const rows = [...devices].sort(byDeviceOrder).map((device) => deviceRow(device, now));
  return formatColumns([HEADINGS, ...rows]);
}

function deviceRow(device: DeviceDto, now: Date): string[] {
  return [
    device.siteId,
    device.deviceId,
    device.agentVersion,
    modelLabel(device),
    device.provider ?? '-',
    lastSeenAgo(new Date(device.lastSeenAt), now),
  ].map(printable);
}

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

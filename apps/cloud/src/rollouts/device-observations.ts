import { FAILED_UPDATE_STATUSES, updateStatusName } from '@loupe/device-state';
import type { DeviceChange, RolloutDeviceView } from './rollout-steps';

interface Versions {
  modelName: string;
  toVersion: number;
  fromVersion: number;
}

/** Stored reports keep the status's wire name (device_model_states.reported). */
const REFUSED = new Set<string>(FAILED_UPDATE_STATUSES.map(updateStatusName));
const ACTIVE = updateStatusName('active');

/**
 * Where a device's latest report or telemetry moves it, if anywhere. A
 * report counts only once it answers the latest desired generation. A broker
 * under a burst can drop a ReportedState, and a box reports only on change;
 * its telemetry, sent every period, names the model it runs, so a lost
 * report costs one period, not the rollout. A report of failure outweighs
 * telemetry that the version runs.
 */
export function observedChange(device: RolloutDeviceView, versions: Versions): DeviceChange | undefined {
  if (device.state !== 'updating' && device.state !== 'active' && device.state !== 'reverting') return undefined;
  const reported = fromReport(device, versions);
  if (reported?.state === 'failed') return reported;
  return reported ?? fromTelemetry(device, versions);
}

function fromReport(device: RolloutDeviceView, { modelName, toVersion, fromVersion }: Versions): DeviceChange | undefined {
  const report = device.report;
  if (!report?.answersLatest) return undefined;
  const change = (state: DeviceChange['state']): DeviceChange => ({ siteId: device.siteId, deviceId: device.deviceId, state, detail: report.error });
  const runs = (version: number) => report.activeName === modelName && report.activeVersion === String(version);
  if ((device.state === 'updating' || device.state === 'active') && REFUSED.has(report.status ?? '')) return change('failed');
  if (device.state === 'updating' && report.status === ACTIVE && runs(toVersion)) return change('active');
  if (device.state === 'reverting' && runs(fromVersion)) return change('reverted');
  return undefined;
}

function fromTelemetry(device: RolloutDeviceView, { modelName, toVersion, fromVersion }: Versions): DeviceChange | undefined {
  const telemetry = device.telemetry;
  if (!telemetry?.seenSinceChange || telemetry.modelName !== modelName) return undefined;
  const change = (state: DeviceChange['state']): DeviceChange => ({ siteId: device.siteId, deviceId: device.deviceId, state, detail: '' });
  if (device.state === 'updating' && telemetry.modelVersion === String(toVersion)) return change('active');
  if (device.state === 'reverting' && telemetry.modelVersion === String(fromVersion)) return change('reverted');
  return undefined;
}

import type { RolloutDetailDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';

/** Each device of the rollout with its stage and where its update stands, as the cloud orders them (by stage). */
export function RolloutDevicesTable({ rollout }: { rollout: RolloutDetailDto }) {
  return (
    <table className="rollout-devices">
      <thead>
        <tr>
          <th>Device</th>
          <th>Stage</th>
          <th>State</th>
          <th>Detail</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {rollout.devices.map((device) => (
          <tr key={`${device.siteId}/${device.deviceId}`}>
            <td>
              {device.siteId}/{device.deviceId}
            </td>
            <td>{rollout.plan.stages[device.stage]?.name ?? device.stage}</td>
            <td className={`device-state ${device.state}`}>{device.state}</td>
            <td>{device.detail === '' ? '-' : device.detail}</td>
            <td className="numeric">
              <time dateTime={device.updatedAt} title={device.updatedAt}>
                {localMinute(device.updatedAt)}
              </time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

import { routeHref } from '../routes/routes';
import type { FleetRow, OtaCells, RunningCheck } from './fleet-rows';

export function FleetTable({ rows }: { rows: readonly FleetRow[] }) {
  return (
    <table className="fleet">
      <thead>
        <tr>
          <th aria-label="Online" />
          <th>Site</th>
          <th>Device</th>
          <th>Agent</th>
          <th>Model</th>
          <th>Provider</th>
          <th>Last seen</th>
          <th>Group</th>
          <th>Desired</th>
          <th>Status</th>
          <th>Active</th>
          <th>Previous</th>
          <th>Runs desired</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <td>
              <OnlineDot online={row.online} />
            </td>
            <td>{row.site}</td>
            <td>{row.device}</td>
            <td>{row.agent}</td>
            <td>{row.model}</td>
            <td>{row.provider}</td>
            <td className="numeric">{row.lastSeen}</td>
            {row.ota === null ? <td colSpan={7}>not enrolled: no model updates</td> : <OtaColumns ota={row.ota} />}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OtaColumns({ ota }: { ota: OtaCells }) {
  return (
    <>
      <td>
        {ota.group}
        {ota.revoked && <strong> (revoked)</strong>}
      </td>
      <td>
        {ota.desired}
        {ota.rolloutId !== null && (
          <>
            {' '}
            <a href={routeHref('rollouts', ota.rolloutId)} title={`rollout ${ota.rolloutId}`}>
              rollout
            </a>
          </>
        )}
      </td>
      <td>{ota.status}</td>
      <td>{ota.active}</td>
      <td>{ota.previous}</td>
      <td>
        <RunningMark running={ota.running} />
      </td>
      <td className="error">{ota.error}</td>
    </>
  );
}

const RUNNING: Record<RunningCheck, { text: string; title: string; className: string }> = {
  matches: { text: 'yes', title: 'The ONNX file it runs has the desired hash', className: 'pass' },
  differs: { text: 'no', title: 'The ONNX file it runs is not the desired one', className: 'fail' },
  unreported: { text: '?', title: 'It has not reported the hash of the file it runs', className: '' },
  'nothing-desired': { text: '-', title: 'No model is desired for it yet', className: '' },
};

function RunningMark({ running }: { running: RunningCheck }) {
  const { text, title, className } = RUNNING[running];
  return (
    <span className={className} title={title}>
      {text}
    </span>
  );
}

function OnlineDot({ online }: { online: boolean }) {
  const label = online ? 'Online: seen within 30 s' : 'Silent for more than 30 s';
  return <span className={online ? 'dot online' : 'dot silent'} role="img" aria-label={label} title={label} />;
}

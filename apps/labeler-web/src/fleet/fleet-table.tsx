import type { FleetRow } from './fleet-rows';

export function FleetTable({ rows }: { rows: readonly FleetRow[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th aria-label="Online" />
          <th>Site</th>
          <th>Device</th>
          <th>Agent</th>
          <th>Model</th>
          <th>Provider</th>
          <th>Last seen</th>
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
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OnlineDot({ online }: { online: boolean }) {
  const label = online ? 'Online: seen within 30 s' : 'Silent for more than 30 s';
  return <span className={online ? 'dot online' : 'dot silent'} role="img" aria-label={label} title={label} />;
}

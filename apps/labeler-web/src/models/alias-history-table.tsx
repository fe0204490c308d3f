import { localMinute } from './model-display';
import type { AliasMove } from './models-api';

/** The audit trail of a model's aliases, newest first as the cloud sends it. */
export function AliasHistoryTable({ moves }: { moves: readonly AliasMove[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>When</th>
          <th>Alias</th>
          <th>From</th>
          <th>To</th>
          <th>By</th>
          <th>Why</th>
        </tr>
      </thead>
      <tbody>
        {moves.map((move, index) => (
          // Two moves can share alias, versions and minute; their place in the trail is what tells them apart.
          <tr key={index}>
            <td className="numeric">
              <time dateTime={move.movedAt} title={move.movedAt}>
                {localMinute(move.movedAt)}
              </time>
            </td>
            <td>{move.alias}</td>
            <td className="numeric">{move.fromVersion === null ? 'none' : `v${move.fromVersion}`}</td>
            <td className="numeric">v{move.toVersion}</td>
            <td>{move.actor}</td>
            <td>{move.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

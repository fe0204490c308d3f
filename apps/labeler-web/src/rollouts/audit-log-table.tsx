import type { RolloutDetailDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';
import { eventSummary } from './rollout-display';

/** Who did what to the rollout and why, oldest first as the cloud keeps it: people by user id, the controller as `controller`. */
export function AuditLogTable({ events }: { events: RolloutDetailDto['events'] }) {
  return (
    <table className="audit-log">
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          <th>What</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event, index) => (
          // Events have no id in the contract; their place in the log is what tells two alike apart.
          <tr key={index}>
            <td className="numeric">
              <time dateTime={event.at} title={event.at}>
                {localMinute(event.at)}
              </time>
            </td>
            <td>{event.actor}</td>
            <td>{event.action}</td>
            <td title={JSON.stringify(event.detail)}>{eventSummary(event.detail)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

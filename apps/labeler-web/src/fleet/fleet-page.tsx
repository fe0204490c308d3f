import type { PolledState } from '../api/polled-state';
import { toFleetRows, type Fleet } from './fleet-rows';
import { FleetTable } from './fleet-table';
import { useFleet } from './use-fleet';
import { useNow } from './use-now';
import './fleet.css';

/** Every edge device the cloud has heard from or enrolled, with its model update, refreshed while the page is open. */
export function FleetPage({ onSessionExpired }: { onSessionExpired: () => void }) {
  const fleet = useFleet(onSessionExpired);
  const now = useNow(1_000);
  return (
    <main>
      <h1>Fleet</h1>
      <FleetContent fleet={fleet} now={now} />
    </main>
  );
}

function FleetContent({ fleet, now }: { fleet: PolledState<Fleet>; now: Date }) {
  switch (fleet.status) {
    case 'loading':
      return <p className="notice">Loading devices…</p>;
    case 'failed':
      return (
        <p className="notice error" role="alert">
          {fleet.problem} Retrying…
        </p>
      );
    case 'loaded': {
      const rows = toFleetRows(fleet.value, now);
      return (
        <>
          {fleet.problem !== null && (
            <p className="notice error" role="alert">
              {fleet.problem} Showing the devices as last loaded; retrying…
            </p>
          )}
          {rows.length === 0 ? <p className="notice">No devices yet: start an edge agent, see README</p> : <FleetTable rows={rows} />}
        </>
      );
    }
  }
}

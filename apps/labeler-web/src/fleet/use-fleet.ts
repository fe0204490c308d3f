import type { PolledState } from '../api/polled-state';
import { usePolled } from '../api/use-polled';
import { fetchEnrolledDevices, fetchFleet } from './fleet-api';
import type { Fleet } from './fleet-rows';

// Both lists in one poll, so a row never mixes telemetry and update state
// from polls far apart.
async function loadFleet(signal: AbortSignal): Promise<Fleet> {
  const [devices, enrolled] = await Promise.all([fetchFleet(fetch, signal), fetchEnrolledDevices(fetch, signal)]);
  return { devices, enrolled };
}

// Devices keep reporting: the page polls for as long as it is open.
const always = () => true;

/** The fleet, polled from the cloud while the component is mounted. */
export function useFleet(onSessionExpired: () => void): PolledState<Fleet> {
  return usePolled({ load: loadFleet, keepPolling: always, onSessionExpired }).state;
}

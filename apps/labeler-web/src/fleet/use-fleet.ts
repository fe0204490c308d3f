import type { PolledState } from '../api/polled-state';
import { usePolled } from '../api/use-polled';
import { fetchFleet } from './fleet-api';
import type { Fleet } from './fleet-rows';

const loadFleet = (signal: AbortSignal): Promise<Fleet> => fetchFleet(fetch, signal);

// Devices keep reporting: the page polls for as long as it is open.
const always = () => true;

/** The fleet, polled from the cloud while the component is mounted. */
export function useFleet(onSessionExpired: () => void): PolledState<Fleet> {
  return usePolled({ load: loadFleet, keepPolling: always, onSessionExpired }).state;
}

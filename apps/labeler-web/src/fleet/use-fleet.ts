import { useEffect, useReducer } from 'react';
import { fetchFleet } from './fleet-api';
import { initialFleetState, nextFleetState, type FleetState } from './fleet-state';
import { nextPollDelayMs } from './poll-delay';

/** The fleet, polled from the cloud while the component is mounted. */
export function useFleet(): FleetState {
  const [state, dispatch] = useReducer(nextFleetState, initialFleetState);

  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    // The next poll is scheduled after this one settles, never on a fixed
    // interval, so a slow cloud never has two requests from one tab.
    async function poll(): Promise<void> {
      try {
        dispatch({ type: 'received', devices: await fetchFleet(fetch, stop.signal) });
        failures = 0;
      } catch (error) {
        if (stop.signal.aborted) return;
        failures += 1;
        dispatch({ type: 'failed', problem: error instanceof Error ? error.message : String(error) });
      }
      // Unmounting may have happened while the answer was on its way.
      if (stop.signal.aborted) return;
      timer = setTimeout(() => void poll(), nextPollDelayMs(failures));
    }

    void poll();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, []);

  return state;
}

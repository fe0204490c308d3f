import { useCallback, useEffect, useReducer, useState } from 'react';
import { SessionExpiredError } from './cloud-api';
import { nextPollDelayMs } from './poll-delay';
import { initialPolledState, nextPolledState, type PolledState } from './polled-state';

interface PollOptions<T> {
  /** Stable across renders (module-level or memoized): a new one starts polling over. */
  load: (signal: AbortSignal) => Promise<T>;
  /** Whether the answer can still change; polling stops once it cannot. */
  keepPolling: (value: T) => boolean;
  onSessionExpired: () => void;
}

/**
 * An answer of the cloud, asked again while it may change and the component
 * is mounted. `refresh` asks at once, for instance after a command changed it.
 */
export function usePolled<T>({ load, keepPolling, onSessionExpired }: PollOptions<T>): { state: PolledState<T>; refresh: () => void } {
  const [state, dispatch] = useReducer(nextPolledState<T>, initialPolledState);
  const [round, setRound] = useState(0);
  const refresh = useCallback(() => setRound((count) => count + 1), []);

  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    // The next poll is scheduled after this one settles, never on a fixed
    // interval, so a slow cloud never has two requests from one tab.
    async function poll(): Promise<void> {
      let settled = false;
      try {
        const value = await load(stop.signal);
        if (stop.signal.aborted) return;
        dispatch({ type: 'received', value });
        failures = 0;
        settled = !keepPolling(value);
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof SessionExpiredError) {
          onSessionExpired();
          return;
        }
        failures += 1;
        dispatch({ type: 'failed', problem: error instanceof Error ? error.message : String(error) });
      }
      if (!settled) timer = setTimeout(() => void poll(), nextPollDelayMs(failures));
    }

    void poll();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [load, keepPolling, onSessionExpired, round]);

  return { state, refresh };
}

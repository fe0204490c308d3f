import { useEffect, useRef } from 'react';

/** Calls `action` every `ms` milliseconds while `ms` is not null; always the latest `action`, on one timer. */
export function useEvery(ms: number | null, action: () => void): void {
  const latest = useRef(action);
  useEffect(() => {
    latest.current = action;
  });
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

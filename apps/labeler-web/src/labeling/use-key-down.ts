import { useEffect, useRef } from 'react';

/**
 * Hands each key pressed on the page to `onKey`, which says whether it used
 * the key. Keys held with Ctrl, Cmd or Alt stay the browser's shortcuts.
 */
export function useKeyDown(onKey: (key: string) => boolean): void {
  const latest = useRef(onKey);
  useEffect(() => {
    latest.current = onKey;
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (latest.current(event.key)) event.preventDefault();
    };
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}

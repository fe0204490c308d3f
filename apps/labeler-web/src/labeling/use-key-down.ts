import { useEffect, useRef } from 'react';

export interface PressedKey {
  key: string;
  shiftKey: boolean;
}

/**
 * Hands each key pressed on the page to `onKey`, which says whether it used
 * the key. Keys held with Ctrl, Cmd or Alt stay the browser's shortcuts, and
 * keys that a focused control uses itself stay its own: typing in a field,
 * arrows on a slider, Enter and Space on a button.
 */
export function useKeyDown(onKey: (pressed: PressedKey) => boolean): void {
  const latest = useRef(onKey);
  useEffect(() => {
    latest.current = onKey;
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (controlOwns(event.target, event.key)) return;
      if (latest.current({ key: event.key, shiftKey: event.shiftKey })) event.preventDefault();
    };
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}

function controlOwns(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return true;
  if (target.getAttribute('role') === 'slider') return key.startsWith('Arrow') || ['Home', 'End', 'PageUp', 'PageDown'].includes(key);
  return (key === 'Enter' || key === ' ') && (target.tagName === 'BUTTON' || target.tagName === 'A' || target.getAttribute('role') === 'radio');
}

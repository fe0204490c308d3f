import { useEffect, useRef, useState } from 'react';

/** Whether Space is held down (outside text fields), while `active`: Space+drag pans where a plain drag draws. */
export function useSpaceHeld(active: boolean) {
  const held = useRef(false);
  const [, rerender] = useState(0);
  useEffect(() => {
    if (!active) return;
    const set = (down: boolean) => (event: KeyboardEvent) => {
      if (event.key !== ' ' || isTextField(event.target)) return;
      // Kept from the page: Space would otherwise press the focused button or scroll.
      event.preventDefault();
      if (held.current === down) return;
      held.current = down;
      rerender((count) => count + 1);
    };
    const down = set(true);
    const up = set(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [active]);
  return held;
}

const isTextField = (target: EventTarget | null) => target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

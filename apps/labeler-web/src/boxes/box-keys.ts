import { classAtKey } from '../labeling/labeling-keys';

/** What a key does on the box screen. */
export type BoxKey =
  | { kind: 'chooseClass'; className: string }
  | { kind: 'selectNext'; step: 1 | -1 }
  | { kind: 'delete' }
  | { kind: 'deselect' }
  | { kind: 'nudge'; dx: number; dy: number }
  | { kind: 'submit' };

/**
 * Keys 1-9 choose the class for new boxes and give it to the selected box;
 * N selects the next box (Shift+N the one before); Delete or Backspace
 * deletes the selected box and Escape lets it go; arrows move it by a pixel
 * (Shift: ten) while one is selected, and pan the image otherwise; Enter
 * sends the boxes as the answer.
 */
export function boxKey(key: string, shiftKey: boolean, classes: readonly string[], boxSelected: boolean): BoxKey | undefined {
  const className = classAtKey(key, classes);
  if (className !== undefined) return { kind: 'chooseClass', className };
  const step = shiftKey ? 10 : 1;
  switch (key) {
    case 'n':
    case 'N':
      return { kind: 'selectNext', step: shiftKey ? -1 : 1 };
    case 'Enter':
      return { kind: 'submit' };
    case 'Delete':
    case 'Backspace':
      return boxSelected ? { kind: 'delete' } : undefined;
    case 'Escape':
      return boxSelected ? { kind: 'deselect' } : undefined;
    case 'ArrowLeft':
      return boxSelected ? { kind: 'nudge', dx: -step, dy: 0 } : undefined;
    case 'ArrowRight':
      return boxSelected ? { kind: 'nudge', dx: step, dy: 0 } : undefined;
    case 'ArrowUp':
      return boxSelected ? { kind: 'nudge', dx: 0, dy: -step } : undefined;
    case 'ArrowDown':
      return boxSelected ? { kind: 'nudge', dx: 0, dy: step } : undefined;
    default:
      return undefined;
  }
}

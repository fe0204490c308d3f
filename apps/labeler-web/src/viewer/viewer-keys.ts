import { ADJUSTMENT_KEY_STEP } from './adjustments';
import { PAN_STEP, ZOOM_STEP } from './viewport';

/** What a key does to the image view. */
export type ViewerCommand =
  | { kind: 'zoom'; factor: number }
  | { kind: 'fit' }
  | { kind: 'actualSize' }
  | { kind: 'pan'; dx: number; dy: number }
  | { kind: 'adjust'; brightness?: number; contrast?: number }
  | { kind: 'reset' };

/**
 * `+` and `-` zoom (`=` too: it is `+` without Shift on most layouts), `0`
 * fits the image to the screen, and `!` (Shift+1; 1-9 are the classes)
 * shows it one-to-one. Arrows pan (with Shift four times as far), `B` and
 * `C` raise brightness and contrast (with Shift they lower them), and `R`
 * fits the image and resets both.
 */
export function viewerKey(key: string, shiftKey: boolean): ViewerCommand | undefined {
  const pan = shiftKey ? PAN_STEP * 4 : PAN_STEP;
  switch (key) {
    case '+':
    case '=':
      return { kind: 'zoom', factor: ZOOM_STEP };
    case '-':
    case '_':
      return { kind: 'zoom', factor: 1 / ZOOM_STEP };
    case '0':
      return { kind: 'fit' };
    case '!':
      return { kind: 'actualSize' };
    // An arrow moves the view over the image: the image moves the other way.
    case 'ArrowLeft':
      return { kind: 'pan', dx: pan, dy: 0 };
    case 'ArrowRight':
      return { kind: 'pan', dx: -pan, dy: 0 };
    case 'ArrowUp':
      return { kind: 'pan', dx: 0, dy: pan };
    case 'ArrowDown':
      return { kind: 'pan', dx: 0, dy: -pan };
    case 'b':
    case 'B':
      return { kind: 'adjust', brightness: shiftKey ? -ADJUSTMENT_KEY_STEP : ADJUSTMENT_KEY_STEP };
    case 'c':
    case 'C':
      return { kind: 'adjust', contrast: shiftKey ? -ADJUSTMENT_KEY_STEP : ADJUSTMENT_KEY_STEP };
    case 'r':
    case 'R':
      return { kind: 'reset' };
    default:
      return undefined;
  }
}

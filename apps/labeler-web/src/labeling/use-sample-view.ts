import { useState } from 'react';
import { adjusted, AS_CAPTURED, type Adjustments } from '../viewer/adjustments';
import { useViewport } from '../viewer/use-viewport';
import { viewerKey } from '../viewer/viewer-keys';
import type { PressedKey } from './use-key-down';

/**
 * How a sample is looked at on the labeling and review screens: zoom and
 * pan (new for each image), brightness and contrast (kept from sample to
 * sample: a dark line stays dark), and whether every score shows.
 */
export function useSampleView(src: string) {
  const viewport = useViewport(src);
  const [adjustments, setAdjustments] = useState<Adjustments>(AS_CAPTURED);
  const [scoresOpen, setScoresOpen] = useState(false);

  /** The viewer's keys and P; says whether it used the key. */
  const onKey = ({ key, shiftKey }: PressedKey): boolean => {
    if (key === 'p' || key === 'P') {
      setScoresOpen((open) => !open);
      return true;
    }
    const command = viewerKey(key, shiftKey);
    if (!command) return false;
    switch (command.kind) {
      case 'zoom':
        viewport.zoomBy(command.factor);
        break;
      case 'fit':
        viewport.fit();
        break;
      case 'actualSize':
        viewport.actualSize();
        break;
      case 'pan':
        viewport.panBy(command.dx, command.dy);
        break;
      case 'adjust':
        setAdjustments((shown) =>
          adjusted(shown, { brightness: shown.brightness + (command.brightness ?? 0), contrast: shown.contrast + (command.contrast ?? 0) }),
        );
        break;
      case 'reset':
        setAdjustments(AS_CAPTURED);
        viewport.fit();
        break;
    }
    return true;
  };

  return { viewport, adjustments, setAdjustments, scoresOpen, setScoresOpen, onKey };
}

import { Slider } from 'radix-ui';
import { ADJUSTMENT_RANGE, AS_CAPTURED, type Adjustments } from './adjustments';
import type { ViewportControl } from './use-viewport';
import { ZOOM_STEP, zoomPercent } from './viewport';
import styles from './viewer-toolbar.module.css';

interface ViewerToolbarProps {
  viewport: ViewportControl;
  adjustments: Adjustments;
  onAdjust: (adjustments: Adjustments) => void;
  /** What a drag does on this screen, said beside the controls. */
  dragHint: string;
}

/** Zoom, fit and one-to-one, brightness and contrast: each with its key in its name. */
export function ViewerToolbar({ viewport, adjustments, onAdjust, dragHint }: ViewerToolbarProps) {
  const { view } = viewport;
  return (
    <div className={styles.toolbar} role="group" aria-label="Image view">
      <div className={styles.group}>
        <button type="button" aria-label="Zoom out" aria-keyshortcuts="-" title="Zoom out (-)" onClick={() => viewport.zoomBy(1 / ZOOM_STEP)}>
          −
        </button>
        <output className={styles.zoom} aria-label="Zoom" aria-live="off">
          {view ? `${zoomPercent(view)}%` : '–'}
        </output>
        <button type="button" aria-label="Zoom in" aria-keyshortcuts="+" title="Zoom in (+)" onClick={() => viewport.zoomBy(ZOOM_STEP)}>
          +
        </button>
        <button type="button" aria-keyshortcuts="0" title="Fit to screen (0)" onClick={viewport.fit}>
          Fit <kbd>0</kbd>
        </button>
        <button type="button" aria-keyshortcuts="Shift+1" title="One image pixel per screen pixel (Shift+1)" onClick={viewport.actualSize}>
          1:1
        </button>
      </div>
      <AdjustmentSlider label="Brightness" keyName="B" value={adjustments.brightness} onChange={(brightness) => onAdjust({ ...adjustments, brightness })} />
      <AdjustmentSlider label="Contrast" keyName="C" value={adjustments.contrast} onChange={(contrast) => onAdjust({ ...adjustments, contrast })} />
      <button
        type="button"
        aria-keyshortcuts="R"
        title="Fit and show the image as captured (R)"
        onClick={() => {
          onAdjust(AS_CAPTURED);
          viewport.fit();
        }}
      >
        Reset <kbd>R</kbd>
      </button>
      <span className={styles.hint}>{dragHint}</span>
    </div>
  );
}

function AdjustmentSlider({ label, keyName, value, onChange }: { label: string; keyName: string; value: number; onChange: (value: number) => void }) {
  return (
    <div className={styles.slider}>
      <span>
        {label} <span className={styles.value}>{value}%</span>
      </span>
      <Slider.Root
        className={styles.root}
        min={ADJUSTMENT_RANGE.min}
        max={ADJUSTMENT_RANGE.max}
        step={ADJUSTMENT_RANGE.step}
        value={[value]}
        onValueChange={([next]) => next !== undefined && onChange(next)}
      >
        <Slider.Track className={styles.track}>
          <Slider.Range className={styles.range} />
        </Slider.Track>
        <Slider.Thumb className={styles.thumb} aria-label={label} aria-valuetext={`${value}%`} aria-keyshortcuts={`${keyName} Shift+${keyName}`} />
      </Slider.Root>
    </div>
  );
}

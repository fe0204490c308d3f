import { ToggleGroup } from 'radix-ui';
import { percent } from '../labeling/model-guess';
import type { BoxEdit, BoxEditorState } from './box-editor';
import styles from './box-panel.module.css';
import { classColor } from './class-colors';

interface BoxPanelProps {
  state: BoxEditorState | null;
  classes: readonly string[];
  onEdit: (edit: BoxEdit) => void;
  onSubmit: () => void;
  /** False while no sample can take an answer. */
  enabled: boolean;
}

/** The class for new boxes, every box with its class, and the button that sends them: the box screen's answer. */
export function BoxPanel({ state, classes, onEdit, onSubmit, enabled }: BoxPanelProps) {
  const boxes = state?.boxes ?? [];
  return (
    <section className={styles.panel} aria-label="Boxes">
      <div className={styles.heading} id="box-class-label">
        Class of a new box, or of the selected one
      </div>
      <ToggleGroup.Root
        type="single"
        className={styles.classes}
        aria-labelledby="box-class-label"
        value={state?.drawClass ?? ''}
        onValueChange={(className) => className && onEdit({ type: 'chooseClass', className })}
        disabled={!state}
      >
        {classes.map((className, index) => (
          <ToggleGroup.Item key={className} value={className} className={styles.classItem} aria-keyshortcuts={String(index + 1)}>
            <span className={styles.swatch} style={{ background: classColor(className, classes) }} aria-hidden="true" />
            <kbd>{index + 1}</kbd> {className}
          </ToggleGroup.Item>
        ))}
      </ToggleGroup.Root>
      <div className={styles.heading}>
        {boxes.length === 0 ? 'No boxes: drag on the image to draw one' : `${boxes.length} ${boxes.length === 1 ? 'box' : 'boxes'}`}
      </div>
      {boxes.length > 0 && (
        <ol className={styles.list}>
          {boxes.map((box, index) => (
            <li key={box.id} className={box.id === state?.selectedId ? styles.selected : undefined}>
              <button type="button" aria-pressed={box.id === state?.selectedId} onClick={() => onEdit({ type: 'select', id: box.id === state?.selectedId ? null : box.id })}>
                <span className={styles.swatch} style={{ background: classColor(box.className, classes) }} aria-hidden="true" />
                {index + 1}. {box.className}
                <span className={styles.source}>{box.modelScore === undefined ? 'yours' : `model ${percent(box.modelScore)}`}</span>
              </button>
              <button
                type="button"
                aria-label={`Delete box ${index + 1}`}
                onClick={() => {
                  onEdit({ type: 'select', id: box.id });
                  onEdit({ type: 'delete' });
                }}
              >
                Delete
              </button>
            </li>
          ))}
        </ol>
      )}
      <button type="button" className="primary" disabled={!enabled || !state} aria-keyshortcuts="Enter" onClick={onSubmit}>
        <kbd>Enter</kbd> {boxes.length === 0 ? 'Send: nothing to mark' : `Send ${boxes.length} ${boxes.length === 1 ? 'box' : 'boxes'}`}
      </button>
    </section>
  );
}

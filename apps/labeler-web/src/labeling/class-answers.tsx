import styles from './panel.module.css';

interface ClassAnswersProps {
  classes: readonly string[];
  /** False while no sample can take an answer (loading, empty, on its way). */
  enabled: boolean;
  onAnswer: (className: string) => void;
}

/** The project's classes as buttons, each with its key: a click or the key answers. */
export function ClassAnswers({ classes, enabled, onAnswer }: ClassAnswersProps) {
  return (
    <div className={styles.answers} role="group" aria-label="Answer with a class">
      {classes.map((className, index) => (
        <button key={className} type="button" disabled={!enabled} aria-keyshortcuts={String(index + 1)} onClick={() => onAnswer(className)}>
          <kbd>{index + 1}</kbd> {className}
        </button>
      ))}
    </div>
  );
}

interface QueueActionsProps {
  canSkip: boolean;
  onSkip: () => void;
  onUndo: () => void;
  /** What Z takes back on this screen. */
  undoLabel: string;
}

/** Skip and undo, with their keys. Undo is always there: with nothing to take back it says so. */
export function QueueActions({ canSkip, onSkip, onUndo, undoLabel }: QueueActionsProps) {
  return (
    <div className={styles.actions}>
      <button type="button" disabled={!canSkip} aria-keyshortcuts="S" onClick={onSkip}>
        <kbd>S</kbd> Skip
      </button>
      <button type="button" aria-keyshortcuts="Z" onClick={onUndo}>
        <kbd>Z</kbd> {undoLabel}
      </button>
    </div>
  );
}

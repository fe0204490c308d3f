import type { ProjectDto } from '@loupe/api-contracts';
import { ClassAnswers } from './class-answers';
import { VIEWER_KEYS } from './keys-help';
import { queueKey } from './labeling-keys';
import { modelGuess } from './model-guess';
import { QueueFrame } from './queue-frame';
import { useKeyDown } from './use-key-down';
import type { LabelQueue } from './use-label-queue';
import { useSampleView } from './use-sample-view';

const KEYS = [
  { keys: '1-9', does: 'answer with the class' },
  { keys: 'S', does: 'skip: not offered to you again' },
  { keys: 'Z', does: 'take back your last answer (again for the one before)' },
  { keys: 'Drag', does: 'pan' },
  ...VIEWER_KEYS,
];

/** A classification or anomaly project's queue: a class per sample, by click or key. */
export function ClassQueueScreen({ project, queue }: { project: ProjectDto; queue: LabelQueue }) {
  const sample = queue.current;
  const sampleView = useSampleView(sample?.imageUrl ?? '');
  const guess = sample ? modelGuess(sample.prediction, sample.verdict) : null;

  useKeyDown((pressed) => {
    const action = queueKey(pressed.key, project.classes);
    if (action?.kind === 'answer') queue.answer({ className: action.className });
    else if (action?.kind === 'skip') queue.skip();
    else if (action?.kind === 'undo') queue.undo();
    else return sampleView.onKey(pressed);
    return true;
  });

  return (
    <QueueFrame
      project={project}
      queue={queue}
      sampleView={sampleView}
      guess={guess}
      answering={<ClassAnswers classes={project.classes} enabled={sample !== null} onAnswer={(className) => queue.answer({ className })} />}
      undoLabel="Undo last answer"
      onUndo={queue.undo}
      keys={KEYS}
      dragPans
      dragHint="Drag to pan · wheel to zoom"
    />
  );
}

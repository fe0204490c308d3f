import type { ProjectDto } from '@loupe/api-contracts';
import { VIEWER_KEYS } from '../labeling/keys-help';
import { queueKey } from '../labeling/labeling-keys';
import { modelGuess } from '../labeling/model-guess';
import { QueueFrame } from '../labeling/queue-frame';
import { useKeyDown, type PressedKey } from '../labeling/use-key-down';
import type { LabelQueue } from '../labeling/use-label-queue';
import { useSampleView } from '../labeling/use-sample-view';
import { movedRect } from './box-geometry';
import { boxKey, type BoxKey } from './box-keys';
import { BoxLayer } from './box-layer';
import { BoxPanel } from './box-panel';
import { useBoxAnswer } from './use-box-answer';

const KEYS = [
  { keys: 'Drag', does: 'draw a box; drag a box to move it, its handles to resize it' },
  { keys: 'Space+drag', does: 'pan (or drag with the middle button)' },
  { keys: '1-9', does: 'class for new boxes and the selected box' },
  { keys: 'N, Shift+N', does: 'select the next, the previous box' },
  { keys: 'Arrows', does: 'move the selected box a pixel (Shift: 10); pan without one' },
  { keys: 'Delete', does: 'delete the selected box' },
  { keys: 'Esc', does: 'let the selected box go' },
  { keys: 'Enter', does: 'send the boxes as your answer' },
  { keys: 'S', does: 'skip: not offered to you again' },
  { keys: 'Z', does: 'take back your last box edit, or else your last answer' },
  ...VIEWER_KEYS,
];

/** A detection project's queue: the model's boxes as pre-labels, edited and sent as the answer. */
export function BoxQueueScreen({ project, queue }: { project: ProjectDto; queue: LabelQueue }) {
  const sample = queue.current;
  const sampleView = useSampleView(sample?.imageUrl ?? '');
  const guess = sample ? modelGuess(sample.prediction, sample.verdict) : null;
  const answer = useBoxAnswer(project, queue, sampleView.viewport.image, guess);
  const { boxes, editor, problem } = answer;
  useBoxScreenKeys(project, queue, answer, sampleView.onKey);

  return (
    <QueueFrame
      project={project}
      queue={queue}
      sampleView={sampleView}
      guess={guess}
      answering={
        <>
          <BoxPanel state={editor} classes={project.classes} onEdit={boxes.edit} onSubmit={answer.submit} enabled={sample !== null} />
          {problem && (
            <p className="notice error" role="alert">
              {problem}
            </p>
          )}
        </>
      }
      undoLabel={editor && editor.past.length > 0 ? 'Undo box edit' : 'Undo last answer'}
      onUndo={answer.undo}
      keys={KEYS}
      dragPans={false}
      dragHint="Drag to draw · Space+drag to pan · wheel to zoom"
      onDragStart={boxes.onDragStart}
      overlay={(view) => editor && <BoxLayer state={editor} preview={boxes.preview} classes={project.classes} view={view} />}
    />
  );
}

/** The box keys, then skip and undo, then the viewer's keys. */
function useBoxScreenKeys(project: ProjectDto, queue: LabelQueue, answer: ReturnType<typeof useBoxAnswer>, onViewerKey: (pressed: PressedKey) => boolean) {
  const { boxes, editor } = answer;
  const onBoxKey = (command: BoxKey) => {
    const selected = editor?.boxes.find((box) => box.id === editor.selectedId);
    switch (command.kind) {
      case 'chooseClass':
        return boxes.edit({ type: 'chooseClass', className: command.className });
      case 'selectNext':
        return boxes.edit({ type: 'selectNext', step: command.step });
      case 'delete':
        return boxes.edit({ type: 'delete' });
      case 'deselect':
        return boxes.edit({ type: 'select', id: null });
      case 'nudge':
        return selected && editor && boxes.edit({ type: 'place', id: selected.id, rect: movedRect(selected, command.dx, command.dy, editor.image) });
      case 'submit':
        return answer.submit();
    }
  };

  useKeyDown((pressed) => {
    const boxSelected = editor?.boxes.some((box) => box.id === editor.selectedId) ?? false;
    const command = boxKey(pressed.key, pressed.shiftKey, project.classes, boxSelected);
    const action = queueKey(pressed.key, []);
    if (command) onBoxKey(command);
    else if (action?.kind === 'skip') queue.skip();
    else if (action?.kind === 'undo') answer.undo();
    else return onViewerKey(pressed);
    return true;
  });
}

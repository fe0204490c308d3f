import type { ProjectDto } from '@loupe/api-contracts';
import { useEffect, useState } from 'react';
import type { ModelGuess } from '../labeling/model-guess';
import type { LabelQueue } from '../labeling/use-label-queue';
import type { Size } from '../viewer/viewport';
import { answerBoxes, boxesProblem } from './box-editor';
import { useBoxEditor } from './use-box-editor';

/**
 * The answer being made for the sample on screen: its boxes (the model's,
 * or the ones sent before an undo brought it back), sent when the project
 * accepts them, with the reason when it does not.
 */
export function useBoxAnswer(project: ProjectDto, queue: LabelQueue, image: Size | null, guess: ModelGuess | null) {
  const sample = queue.current;
  const previous = queue.previousAnswer && 'boxes' in queue.previousAnswer ? queue.previousAnswer.boxes : null;
  const boxes = useBoxEditor(
    sample && image && guess ? { key: `${sample.sampleId}:${sample.token}`, image, modelBoxes: guess.boxes, classes: project.classes, previous } : null,
  );
  const [problem, setProblem] = useState<string | null>(null);
  const editor = boxes.state;

  const submit = () => {
    if (!editor) return;
    const refused = boxesProblem(editor, project.classes);
    setProblem(refused);
    if (!refused) queue.answer({ boxes: answerBoxes(editor) });
  };
  // Z takes back this sample's box edits first; with none left, the last answer.
  const undo = () => (editor && editor.past.length > 0 ? boxes.edit({ type: 'undo' }) : queue.undo());

  // A refusal of the last sample's boxes does not carry over to the next.
  useEffect(() => setProblem(null), [sample]);

  return { boxes, editor, problem, submit, undo };
}

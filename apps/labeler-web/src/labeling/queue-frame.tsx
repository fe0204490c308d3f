import type { ProjectDto } from '@loupe/api-contracts';
import type { ReactNode } from 'react';
import { routeHref } from '../routes/routes';
import { ImageViewer } from '../viewer/image-viewer';
import type { ImageDrag } from '../viewer/use-stage-pointer';
import { ViewerToolbar } from '../viewer/viewer-toolbar';
import type { Point, Viewport } from '../viewer/viewport';
import { QueueActions } from './class-answers';
import { KeysHelp, type KeyHelp } from './keys-help';
import { LabelingLayout, StageMessage } from './labeling-layout';
import type { ModelGuess } from './model-guess';
import { ModelGuessView } from './model-guess-view';
import styles from './panel.module.css';
import { ConfirmationView, emptyQueueText, ProblemView, QueueCountersView } from './queue-status';
import type { LabelQueue } from './use-label-queue';
import type { useSampleView } from './use-sample-view';

interface QueueFrameProps {
  project: ProjectDto;
  queue: LabelQueue;
  sampleView: ReturnType<typeof useSampleView>;
  guess: ModelGuess | null;
  /** How this screen answers: class buttons, or boxes. */
  answering: ReactNode;
  undoLabel: string;
  onUndo: () => void;
  keys: readonly KeyHelp[];
  dragPans: boolean;
  dragHint: string;
  onDragStart?: (at: Point, target: Element) => ImageDrag | null;
  overlay?: (view: Viewport) => ReactNode;
}

/** What the label screens share: the image with its controls, the counters, the model's guess, skip, undo and what just happened. */
export function QueueFrame(props: QueueFrameProps) {
  const { project, queue, sampleView, guess, answering, undoLabel, onUndo, keys, dragPans, dragHint, onDragStart, overlay } = props;
  const sample = queue.current;
  const stage = sample ? (
    <ImageViewer
      src={sample.imageUrl}
      alt={`Sample from station ${sample.stationId}`}
      sampleId={sample.sampleId}
      viewport={sampleView.viewport}
      adjustments={sampleView.adjustments}
      dragPans={dragPans}
      {...(onDragStart ? { onDragStart } : {})}
    >
      {overlay}
    </ImageViewer>
  ) : (
    <StageMessage>{stageText(queue)}</StageMessage>
  );
  const panel = (
    <>
      <div className={styles.title}>
        <a href={routeHref('label')}>← All projects</a>
        <h1>{project.name}</h1>
      </div>
      <QueueCountersView counters={queue.counters} />
      <ProblemView problem={queue.problem} />
      {queue.status === 'failed' && (
        <button type="button" onClick={queue.retry}>
          Try again
        </button>
      )}
      {queue.status === 'empty' && <p className="notice">{emptyQueueText(queue.counters.queueDepth)}</p>}
      {sample && guess && (
        <ModelGuessView guess={guess} modelVersion={sample.modelVersion} stationId={sample.stationId} scoresOpen={sampleView.scoresOpen} onScoresOpen={sampleView.setScoresOpen} />
      )}
      {answering}
      <QueueActions canSkip={sample !== null} onSkip={queue.skip} onUndo={onUndo} undoLabel={undoLabel} />
      <ConfirmationView confirmation={queue.confirmation} />
      <KeysHelp keys={keys} />
    </>
  );
  const toolbar = <ViewerToolbar viewport={sampleView.viewport} adjustments={sampleView.adjustments} onAdjust={sampleView.setAdjustments} dragHint={dragHint} />;
  return <LabelingLayout toolbar={toolbar} stage={stage} panel={panel} />;
}

function stageText(queue: LabelQueue): string {
  switch (queue.status) {
    case 'loading':
    case 'showing':
      return 'Claiming a sample…';
    case 'empty':
      return 'No sample for you right now.';
    case 'failed':
      return 'No sample: see the message beside.';
  }
}

import type { ProjectDto, ReviewDto } from '@loupe/api-contracts';
import { useMemo } from 'react';
import { answerText } from '../labeling/answer-text';
import { ClassAnswers } from '../labeling/class-answers';
import { KeysHelp, VIEWER_KEYS } from '../labeling/keys-help';
import { LabelingLayout, StageMessage } from '../labeling/labeling-layout';
import { classAtKey } from '../labeling/labeling-keys';
import { modelGuess } from '../labeling/model-guess';
import { ModelGuessView } from '../labeling/model-guess-view';
import styles from '../labeling/panel.module.css';
import { ProblemView } from '../labeling/queue-status';
import { useKeyDown } from '../labeling/use-key-down';
import { useSampleView } from '../labeling/use-sample-view';
import { ProjectRoute } from '../projects/project-picker';
import { routeHref } from '../routes/routes';
import { ImageViewer } from '../viewer/image-viewer';
import { ViewerToolbar } from '../viewer/viewer-toolbar';
import { ReviewApi } from './review-api';
import { useReviewQueue } from './use-review-queue';

const KEYS = [{ keys: '1-9', does: 'decide with the class' }, { keys: 'Drag', does: 'pan' }, ...VIEWER_KEYS];

/** The project the address names (`#/review/<id>`): its disagreements settled one at a time; without one, a list to pick from. */
export function ReviewPage({ projectId, onSessionExpired }: { projectId: string | null; onSessionExpired: () => void }) {
  return (
    <ProjectRoute screen="review" title="Review" projectId={projectId} onSessionExpired={onSessionExpired}>
      {(project) => <ReviewScreen key={project.id} project={project} onSessionExpired={onSessionExpired} />}
    </ProjectRoute>
  );
}

/** One disagreement at a time: the image, what each labeler answered, and the classes to decide with. */
function ReviewScreen({ project, onSessionExpired }: { project: ProjectDto; onSessionExpired: () => void }) {
  const api = useMemo(() => new ReviewApi(fetch), []);
  const review = useReviewQueue(api, project, onSessionExpired);
  const sample = review.current;
  const sampleView = useSampleView(sample?.imageUrl ?? '');

  useKeyDown((pressed) => {
    const className = classAtKey(pressed.key, project.classes);
    if (className === undefined) return sampleView.onKey(pressed);
    review.decide(className);
    return true;
  });

  const stage = sample ? (
    <ImageViewer src={sample.imageUrl} alt={`Sample from station ${sample.stationId}`} sampleId={sample.sampleId} viewport={sampleView.viewport} adjustments={sampleView.adjustments} dragPans />
  ) : (
    <StageMessage>{review.status === 'empty' ? 'Nothing to review right now.' : review.status === 'failed' ? 'No disagreement: see the message beside.' : 'Claiming a disagreement…'}</StageMessage>
  );
  const panel = (
    <>
      <div className={styles.title}>
        <a href={routeHref('review')}>← All projects</a>
        <h1>Review: {project.name}</h1>
      </div>
      <dl className={styles.counters} aria-label="Counters">
        <div>
          <dt>Decided on this screen</dt>
          <dd>{review.decided}</dd>
        </div>
        <div>
          <dt>Waiting for review</dt>
          <dd>{review.reviewDepth}</dd>
        </div>
      </dl>
      <ProblemView problem={review.problem} />
      {review.status === 'failed' && (
        <button type="button" onClick={review.retry}>
          Try again
        </button>
      )}
      {review.status === 'empty' && <p className="notice">Nothing to review: the labelers agree on every sample so far. Disagreements appear here as they come.</p>}
      {sample && <Answers answers={sample.answers} />}
      {sample && (
        <ModelGuessView
          guess={modelGuess(sample.prediction, sample.verdict)}
          modelVersion={sample.modelVersion}
          stationId={sample.stationId}
          scoresOpen={sampleView.scoresOpen}
          onScoresOpen={sampleView.setScoresOpen}
        />
      )}
      <ClassAnswers classes={project.classes} enabled={sample !== null} onAnswer={review.decide} />
      <KeysHelp keys={KEYS} />
    </>
  );
  const toolbar = <ViewerToolbar viewport={sampleView.viewport} adjustments={sampleView.adjustments} onAdjust={sampleView.setAdjustments} dragHint="Drag to pan · wheel to zoom" />;
  return <LabelingLayout toolbar={toolbar} stage={stage} panel={panel} />;
}

function Answers({ answers }: { answers: ReviewDto['answers'] }) {
  return (
    <section className={styles.section} aria-label="What the labelers answered">
      <div>The labelers answered:</div>
      <ul className="answers">
        {answers.map((answer, index) => (
          <li key={`${answer.labeler}-${index}`}>
            {answer.labeler}: <strong>{answer.className ?? answerText({ boxes: answer.boxes ?? [] })}</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}

import type { ProjectDto, ReviewDto } from '@loupe/api-contracts';
import { useMemo, useState } from 'react';
import { KeyLegend } from '../labeling/key-legend';
import { SampleFigure } from '../labeling/sample-figure';
import { ProjectPicker } from '../projects/project-picker';
import { ReviewApi } from './review-api';
import { useReviewQueue } from './use-review-queue';

/** Pick a project, then settle the samples its labelers disagreed on, with the keyboard. */
export function ReviewPage({ onSessionExpired }: { onSessionExpired: () => void }) {
  const [project, setProject] = useState<ProjectDto | null>(null);
  if (project) return <ReviewScreen project={project} onSessionExpired={onSessionExpired} onLeave={() => setProject(null)} />;
  return <ProjectPicker title="Review" onPick={setProject} onSessionExpired={onSessionExpired} />;
}

/** One disagreement at a time: what each labeler answered, then the image large with the model's guess. */
function ReviewScreen({ project, onSessionExpired, onLeave }: { project: ProjectDto; onSessionExpired: () => void; onLeave: () => void }) {
  const api = useMemo(() => new ReviewApi(fetch), []);
  const review = useReviewQueue(api, project, onSessionExpired);
  return (
    <main className="queue">
      <h1>
        Review: {project.name} <button type="button" onClick={onLeave}>Projects</button>
      </h1>
      <p className="counters">
        Decided this session: <strong>{review.decided}</strong> · Waiting for review: <strong>{review.reviewDepth}</strong>
      </p>
      {review.problem && (
        <p className="notice error" role="alert">
          {review.problem}
        </p>
      )}
      {review.status === 'loading' && <p className="notice">Claiming a disagreement…</p>}
      {review.status === 'empty' && (
        <p className="notice">Nothing to review: the labelers agree on every sample so far. Disagreements appear here as they come.</p>
      )}
      {review.current && <Answers answers={review.current.answers} />}
      {review.current && <SampleFigure sample={review.current} />}
      {review.current && <KeyLegend classes={project.classes} />}
    </main>
  );
}

function Answers({ answers }: { answers: ReviewDto['answers'] }) {
  return (
    <>
      <p>The labelers answered:</p>
      <ul className="answers">
        {answers.map((answer, index) => (
          <li key={`${answer.labeler}-${index}`}>
            {answer.labeler}: <strong>{answer.className ?? `${answer.boxes?.length ?? 0} boxes`}</strong>
          </li>
        ))}
      </ul>
    </>
  );
}

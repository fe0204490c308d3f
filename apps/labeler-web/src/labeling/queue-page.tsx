import type { ClaimDto, ClaimResponse, ProjectDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { LabelingApi, LeaseExpiredError, SessionExpiredError } from './labeling-api';
import { leadingPrediction, queueKey } from './labeling-keys';

// Well inside the cloud's lease (LABEL_LEASE, 2 minutes by default).
const HEARTBEAT_MS = 30_000;
const EMPTY_QUEUE_RETRY_MS = 5_000;

/** Pick a project, then label its queue with the keyboard. */
export function QueuePage({ onSessionExpired }: { onSessionExpired: () => void }) {
  const api = useMemo(() => new LabelingApi(fetch), []);
  const [projects, setProjects] = useState<ProjectDto[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [project, setProject] = useState<ProjectDto | null>(null);

  useEffect(() => {
    api.projects().then(setProjects, (error: Error) => (error instanceof SessionExpiredError ? onSessionExpired() : setProblem(error.message)));
  }, [api, onSessionExpired]);

  if (project) return <QueueScreen api={api} project={project} onSessionExpired={onSessionExpired} onLeave={() => setProject(null)} />;
  return (
    <main>
      <h1>Label</h1>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {projects === null && !problem && <p className="notice">Loading projects…</p>}
      {projects?.length === 0 && <p className="notice">No projects yet: an engineer creates one for each inspection task.</p>}
      <ul className="projects">
        {projects?.map((candidate) => (
          <li key={candidate.id}>
            <button type="button" onClick={() => setProject(candidate)}>
              {candidate.name}
            </button>{' '}
            {candidate.task}, classes: {candidate.classes.join(', ')}
          </li>
        ))}
      </ul>
    </main>
  );
}

function preload(claim: ClaimDto | null): void {
  if (claim) new Image().src = claim.imageUrl;
}

/**
 * One sample at a time, large, with the model's guess. The next sample is
 * claimed and its image loaded while this one is on screen, so an answer
 * shows the next at once.
 */
function QueueScreen({ api, project, onSessionExpired, onLeave }: { api: LabelingApi; project: ProjectDto; onSessionExpired: () => void; onLeave: () => void }) {
  const [current, setCurrent] = useState<ClaimDto | null>(null);
  const [counters, setCounters] = useState({ queueDepth: 0, doneToday: 0 });
  const [status, setStatus] = useState<'loading' | 'labeling' | 'empty'>('loading');
  const [message, setMessage] = useState<string | null>(null);
  const next = useRef<Promise<ClaimResponse> | null>(null);
  // The sample the keys act on; emptied by the first key, so a second press
  // before the next sample is shown cannot answer this one twice.
  const answerable = useRef<ClaimDto | null>(null);
  const shownAt = useRef(performance.now());

  const fail = useCallback(
    (error: unknown) => {
      if (error instanceof SessionExpiredError) onSessionExpired();
      else setMessage(error instanceof Error ? error.message : String(error));
    },
    [onSessionExpired],
  );

  const prefetch = useCallback(() => {
    const claimed = api.claim(project.id);
    claimed.then((response) => preload(response.claim), () => undefined);
    next.current = claimed;
  }, [api, project.id]);

  /** Puts the prefetched sample on screen and claims the one after it. */
  const advance = useCallback(async () => {
    const pending = next.current ?? api.claim(project.id);
    next.current = null;
    try {
      const response = await pending;
      // A prefetched claim counted the answers given before it was made; the
      // ones since are counted here as they succeed.
      setCounters((shown) => ({ queueDepth: response.queueDepth, doneToday: Math.max(shown.doneToday, response.doneToday) }));
      setCurrent(response.claim);
      answerable.current = response.claim;
      shownAt.current = performance.now();
      setStatus(response.claim ? 'labeling' : 'empty');
      if (response.claim) prefetch();
    } catch (error) {
      fail(error);
    }
  }, [api, fail, prefetch, project.id]);

  useEffect(() => {
    void advance();
  }, [advance]);

  useEffect(() => {
    if (status !== 'empty') return;
    const timer = setInterval(() => void advance(), EMPTY_QUEUE_RETRY_MS);
    return () => clearInterval(timer);
  }, [status, advance]);

  useEffect(() => {
    if (!current) return;
    const timer = setInterval(() => {
      api.heartbeat(current.sampleId, current.token).catch(fail);
      void next.current?.then((response) => response.claim && api.heartbeat(response.claim.sampleId, response.claim.token)).catch(() => undefined);
    }, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [api, current, fail]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const claim = answerable.current;
      if (!claim || event.ctrlKey || event.metaKey || event.altKey) return;
      const key = queueKey(event.key, project.classes);
      if (!key) return;
      event.preventDefault();
      answerable.current = null;
      const done =
        key.kind === 'answer'
          ? api.submit(claim.sampleId, claim.token, key.className, performance.now() - shownAt.current)
          : api.skip(claim.sampleId, claim.token);
      setMessage(null);
      done.then(
        () => key.kind === 'answer' && setCounters((shown) => ({ ...shown, doneToday: shown.doneToday + 1 })),
        (error: unknown) => (error instanceof LeaseExpiredError ? setMessage(error.message) : fail(error)),
      );
      void advance();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [advance, api, fail, project.classes]);

  const guess = current ? leadingPrediction(current.prediction, current.verdict) : undefined;
  return (
    <main className="queue">
      <h1>
        {project.name} <button type="button" onClick={onLeave}>Projects</button>
      </h1>
      <p className="counters">
        Done today: <strong>{counters.doneToday}</strong> · In the queue: <strong>{counters.queueDepth}</strong>
      </p>
      {message && (
        <p className="notice error" role="alert">
          {message}
        </p>
      )}
      {status === 'loading' && <p className="notice">Claiming a sample…</p>}
      {status === 'empty' && <p className="notice">The queue is empty for you. New samples appear here as the line sends them.</p>}
      {current && guess && (
        <figure>
          <img src={current.imageUrl} alt={`sample from ${current.stationId}`} className="sample" />
          <figcaption>
            Model {current.modelVersion} says <strong>{guess.label}</strong>
            {guess.confidence === undefined ? '' : ` (${Math.round(guess.confidence * 100)}%)`} · {current.stationId}
          </figcaption>
        </figure>
      )}
      {current && (
        <ol className="classes">
          {project.classes.map((className, index) => (
            <li key={className}>
              <kbd>{index + 1}</kbd> {className}
            </li>
          ))}
          <li>
            <kbd>S</kbd> skip
          </li>
        </ol>
      )}
    </main>
  );
}

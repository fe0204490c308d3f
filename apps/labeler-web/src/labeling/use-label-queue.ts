import type { ClaimDto, ClaimResponse, ProjectDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { LabelingApi } from './labeling-api';
import { queueKey } from './labeling-keys';
import { HEARTBEAT_MS } from './lease';
import { useEvery } from './use-every';
import { useKeyDown } from './use-key-down';

const EMPTY_QUEUE_RETRY_MS = 5_000;

export interface LabelQueue {
  /** The sample on screen; null while loading and when the queue is empty. */
  current: ClaimDto | null;
  status: 'loading' | 'labeling' | 'empty';
  queueDepth: number;
  doneToday: number;
  /** The last thing that went wrong, for the person: a lost lease, a refused undo, an unreachable cloud. */
  problem: string | null;
}

function preload(claims: Promise<ClaimResponse>): void {
  claims.then((response) => {
    if (response.claim) new Image().src = response.claim.imageUrl;
  }, () => undefined);
}

/**
 * The queue screen's work. One sample is on screen and the next is already
 * claimed, its image loading, so an answer shows it at once; the answer's
 * submit claims the one after. Keys 1-9 answer, S skips, Z takes the last
 * answer back.
 */
export function useLabelQueue(api: LabelingApi, project: ProjectDto, onSessionExpired: () => void): LabelQueue {
  const [current, setCurrent] = useState<ClaimDto | null>(null);
  const [status, setStatus] = useState<LabelQueue['status']>('loading');
  const [counters, setCounters] = useState({ queueDepth: 0, doneToday: 0 });
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const next = useRef<Promise<ClaimResponse> | null>(null);
  // The sample the keys act on; emptied by the first key, so a second press
  // before the next sample is shown cannot answer this one twice.
  const answerable = useRef<ClaimDto | null>(null);
  // Set while another sample is on its way to the screen: Z and the
  // empty-queue retry wait, so two changes never race for the screen.
  const changing = useRef(false);
  // The one answer Z can take back, with its submit (which must land first).
  const lastAnswer = useRef<{ sampleId: string; submitted: Promise<unknown> } | null>(null);
  // The cloud's done-today count is read once, from the first claim: a
  // prefetched claim's count predates the answers and undos made since, so
  // those are counted here instead.
  const counted = useRef(false);
  const shownAt = useRef(performance.now());

  const show = useCallback((claim: ClaimDto | null) => {
    setCurrent(claim);
    setStatus(claim ? 'labeling' : 'empty');
  }, []);

  // Keys act on a sample from the moment it is in the page (layout effects
  // run as the render is committed, before any later event), and its time starts then.
  useLayoutEffect(() => {
    answerable.current = current;
    shownAt.current = performance.now();
  }, [current]);

  /** Shows the claimed next sample; `following` (or else a fresh claim) becomes the one after it. */
  const advance = useCallback(
    async (following?: Promise<ClaimResponse>) => {
      const pending = next.current ?? api.claim(project.id);
      next.current = following ?? null;
      if (following) preload(following);
      changing.current = true;
      try {
        const response = await pending;
        const fromCloud = !counted.current;
        counted.current = true;
        setCounters((shown) => ({ queueDepth: response.queueDepth, doneToday: fromCloud ? response.doneToday : shown.doneToday }));
        show(response.claim);
        if (response.claim && !next.current) {
          next.current = api.claim(project.id);
          preload(next.current);
        }
      } catch (error) {
        fail(error);
      } finally {
        changing.current = false;
      }
    },
    [api, fail, project.id, show],
  );

  const answer = (claim: ClaimDto, className: string) => {
    const submitted = api.submit(claim.sampleId, claim.token, className, performance.now() - shownAt.current);
    lastAnswer.current = { sampleId: claim.sampleId, submitted };
    submitted.then(() => setCounters((shown) => ({ ...shown, doneToday: shown.doneToday + 1 })), fail);
    // The submit claimed the sample after the prefetched one; when it failed, a plain claim does.
    void advance(
      submitted.then(
        (response) => response.next ?? api.claim(project.id),
        () => api.claim(project.id),
      ),
    );
  };

  /** Takes the last answer back and puts its sample on screen again; the one that was there goes back to the queue. */
  const undo = async () => {
    const last = lastAnswer.current;
    if (!last || changing.current) return;
    lastAnswer.current = null;
    const onScreen = answerable.current;
    answerable.current = null;
    changing.current = true;
    try {
      // A submit that failed left nothing to take back (its failure is on screen already).
      const answered = await last.submitted.then(
        () => true,
        () => false,
      );
      if (!answered) {
        answerable.current = onScreen;
        return;
      }
      const undone = await api.undo(last.sampleId);
      // Were the release lost, the lease would run out and free the sample all the same.
      if (onScreen) api.release(onScreen.sampleId, onScreen.token).catch(() => undefined);
      setCounters((shown) => ({ ...shown, doneToday: undone.doneToday }));
      show(undone.claim);
    } catch (error) {
      answerable.current = onScreen;
      fail(error);
    } finally {
      changing.current = false;
    }
  };

  useEffect(() => {
    void advance();
  }, [advance]);

  useEvery(status === 'empty' ? EMPTY_QUEUE_RETRY_MS : null, () => {
    if (!changing.current) void advance();
  });

  useEvery(current ? HEARTBEAT_MS : null, () => {
    const held = answerable.current;
    if (held) api.heartbeat(held.sampleId, held.token).catch(fail);
    void next.current?.then((response) => response.claim && api.heartbeat(response.claim.sampleId, response.claim.token)).catch(() => undefined);
  });

  useKeyDown((key) => {
    const pressed = queueKey(key, project.classes);
    if (!pressed) return false;
    setProblem(null);
    if (pressed.kind === 'undo') {
      void undo();
      return true;
    }
    const claim = answerable.current;
    if (!claim) return true;
    answerable.current = null;
    if (pressed.kind === 'answer') answer(claim, pressed.className);
    else {
      api.skip(claim.sampleId, claim.token).catch(fail);
      void advance();
    }
    return true;
  });

  return { current, status, ...counters, problem };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleSelector } from './sample-selector';
import { parseSamplingPolicy } from './sampling-policy';
import type { InspectedPrediction, SelectionCandidate } from './selection-candidate';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A selector on a fake clock; random() answers from `randoms`, then 0.99 (no random pick at any usual share). */
function harness(policy: Record<string, unknown> = {}, randoms: number[] = []) {
  let time = 1_700_000_000_000;
  const selector = new SampleSelector(parseSamplingPolicy(policy), {
    now: () => time,
    random: () => randoms.shift() ?? 0.99,
  });
  return { selector, advance: (ms: number) => (time += ms) };
}

const classified = (verdict: string, top: number): InspectedPrediction => ({
  verdict,
  scores: [
    { label: verdict, score: top },
    { label: 'other', score: 1 - top },
  ],
  boxes: [],
});

let counter = 0n;
/**
 * splitmix64 of a counter: the first thousand are at least 14 bits apart, so
 * only the tests about duplicates see any.
 */
function freshHash(): bigint {
  let z = BigInt.asUintN(64, (counter += 0x9e37_79b9_7f4a_7c15n));
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn);
  return z ^ (z >> 31n);
}

/** Margin 0.9 under the default policy. */
function uncertain(overrides: Partial<SelectionCandidate> = {}): SelectionCandidate {
  return { stationId: 'station-1', task: 'classification', prediction: classified('Defective', 0.55), imageBytes: 100_000, imageHash: freshHash(), ...overrides };
}

/** Margin 0.04 under the default policy. */
function confident(overrides: Partial<SelectionCandidate> = {}): SelectionCandidate {
  return uncertain({ prediction: classified('Normal', 0.98), ...overrides });
}

describe('SampleSelector', () => {
  it('spends budget only on admission, so a device can pick first and hash only what it picked', () => {
    const { selector } = harness({ samplesPerHour: 1 }, [0.99]);
    const candidate = uncertain();
    const picked = selector.pick(candidate);
    expect(picked).toMatchObject({ selected: true, reason: 'margin' });
    expect(selector.pick(uncertain())).toMatchObject({ selected: true });
    expect(selector.pick(confident())).toMatchObject({ selected: false, skipped: 'confident' });
    if (!picked.selected) expect.unreachable();
    expect(selector.admit(candidate, picked)).toBe(picked);
    expect(selector.admit(uncertain(), picked)).toEqual({ selected: false, skipped: 'hourly_budget' });
  });

  it('selects an uncertain inspection with its uncertainty as priority', () => {
    const { selector } = harness();
    const decision = selector.consider(uncertain());
    expect(decision).toMatchObject({ selected: true, reason: 'margin' });
    if (!decision.selected) expect.unreachable();
    expect(decision.uncertainty).toBeCloseTo(0.9, 10);
    expect(decision.priority).toBe(decision.uncertainty);
  });

  it('selects from minUncertainty up and skips the rest as confident', () => {
    const { selector } = harness({ measure: 'least_confidence', minUncertainty: 0.5, randomShare: 0 }, [0.5]);
    expect(selector.consider(uncertain({ prediction: classified('Defective', 0.5) }))).toMatchObject({ selected: true, reason: 'least_confidence', uncertainty: 0.5 });
    expect(selector.consider(uncertain({ prediction: classified('Defective', 0.51) }))).toEqual({ selected: false, skipped: 'confident' });
  });

  it('picks a random share of inspections for calibration, behind every uncertainty pick', () => {
    const { selector } = harness({ randomShare: 0.1 }, [0.05, 0.1, 0.99]);
    const picked = selector.consider(confident());
    expect(picked).toMatchObject({ selected: true, reason: 'random_calibration', priority: 0.05, uncertain: false });
    if (!picked.selected) expect.unreachable();
    expect(picked.uncertainty).toBeCloseTo(0.04, 10);
    expect(selector.consider(confident())).toEqual({ selected: false, skipped: 'confident' });
    expect(selector.consider(confident())).toEqual({ selected: false, skipped: 'confident' });
  });

  it('selects anomalies near the threshold and detections near the score threshold', () => {
    const { selector } = harness({ anomalyBand: 0.25, detectionBand: 0.15, randomShare: 0 }, [0.5, 0.5]);
    const anomaly = { verdict: 'pass', scores: [{ label: 'anomaly', score: 0.9 }], boxes: [], anomaly: { score: 0.45, normalized: 0.9 } };
    expect(selector.consider(uncertain({ task: 'anomaly', prediction: anomaly }))).toMatchObject({ selected: true, reason: 'anomaly_near_threshold' });
    const normal = { ...anomaly, anomaly: { score: 0.2, normalized: 0.4 } };
    expect(selector.consider(uncertain({ task: 'anomaly', prediction: normal }))).toEqual({ selected: false, skipped: 'confident' });

    const box = { label: 'short', score: 0.52, x: 10, y: 20, width: 30, height: 40 };
    const detection = { verdict: 'reject', scores: [{ label: 'short', score: 0.52 }], boxes: [box] };
    expect(selector.consider(uncertain({ task: 'detection', prediction: detection, detectionScoreThreshold: 0.5 }))).toMatchObject({
      selected: true,
      reason: 'detection_near_threshold',
    });
    const clear = { ...detection, boxes: [{ ...box, score: 0.9 }] };
    expect(selector.consider(uncertain({ task: 'detection', prediction: clear, detectionScoreThreshold: 0.5 }))).toEqual({ selected: false, skipped: 'confident' });
  });

  it('stops at samplesPerHour and selects again once a selection is an hour old', () => {
    const { selector, advance } = harness({ samplesPerHour: 3 });
    for (let i = 0; i < 3; i++) {
      expect(selector.consider(uncertain())).toMatchObject({ selected: true });
      advance(10 * MINUTE);
    }
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'hourly_budget' });
    advance(30 * MINUTE - 1);
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'hourly_budget' });
    advance(1);
    expect(selector.consider(uncertain())).toMatchObject({ selected: true });
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'hourly_budget' });
  });

  it('stops at bytesPerDay, counting only what was selected, until a day has passed', () => {
    const { selector, advance } = harness({ bytesPerDay: 1000 });
    expect(selector.consider(uncertain({ imageBytes: 400 }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageBytes: 400 }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageBytes: 300 }))).toEqual({ selected: false, skipped: 'daily_bytes' });
    expect(selector.consider(uncertain({ imageBytes: 200 }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageBytes: 1 }))).toEqual({ selected: false, skipped: 'daily_bytes' });
    advance(24 * HOUR);
    expect(selector.consider(uncertain({ imageBytes: 1000 }))).toMatchObject({ selected: true });
  });

  it('caps selections of one predicted class per hour', () => {
    const { selector, advance } = harness({ perClassPerHour: 2 });
    expect(selector.consider(uncertain())).toMatchObject({ selected: true });
    expect(selector.consider(uncertain())).toMatchObject({ selected: true });
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'class_cap' });
    expect(selector.consider(uncertain({ prediction: classified('Scratched', 0.55) }))).toMatchObject({ selected: true });
    advance(HOUR);
    expect(selector.consider(uncertain())).toMatchObject({ selected: true });
  });

  it('checks the class cap before the hourly budget', () => {
    const { selector } = harness({ perClassPerHour: 1, samplesPerHour: 1 });
    expect(selector.consider(uncertain())).toMatchObject({ selected: true });
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'class_cap' });
    expect(selector.consider(uncertain({ prediction: classified('Scratched', 0.55) }))).toEqual({ selected: false, skipped: 'hourly_budget' });
  });

  it('suppresses a near-duplicate of a recent selection at the same station only', () => {
    const { selector } = harness({ duplicateDistance: 5 });
    const hash = 0x0123_4567_89ab_cdefn;
    expect(selector.consider(uncertain({ imageHash: hash }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: hash ^ 0b11111n }))).toEqual({ selected: false, skipped: 'near_duplicate' });
    expect(selector.consider(uncertain({ stationId: 'station-2', imageHash: hash }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: hash ^ 0b111111n }))).toMatchObject({ selected: true });
  });

  it('checks near-duplicates before any budget', () => {
    const { selector } = harness({ samplesPerHour: 1 }, [0.99]);
    expect(selector.consider(uncertain({ imageHash: 7n }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: 7n }))).toEqual({ selected: false, skipped: 'near_duplicate' });
  });

  it('remembers selections only, and only the last duplicateMemory of them', () => {
    const { selector, advance } = harness({ samplesPerHour: 3, duplicateMemory: 2 });
    const [a, b, c, d] = [freshHash(), freshHash(), freshHash(), freshHash()];
    expect(selector.consider(uncertain({ imageHash: a }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: b }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: c }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: d }))).toEqual({ selected: false, skipped: 'hourly_budget' });
    advance(HOUR);
    expect(selector.consider(uncertain({ imageHash: d }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: a }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ imageHash: d }))).toEqual({ selected: false, skipped: 'near_duplicate' });
  });

  it('remembers 256 stations, forgetting the one seen least recently', () => {
    const { selector } = harness({ samplesPerHour: 10_000, perClassPerHour: 10_000 }, Array<number>(256).fill(0.99));
    const hash = 0xabcdn;
    expect(selector.consider(uncertain({ stationId: 'kept', imageHash: hash }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ stationId: 'forgotten', imageHash: hash }))).toMatchObject({ selected: true });
    for (let i = 0; i < 255; i++) {
      // Still inspecting, even if confidently: 'kept' stays in memory.
      selector.consider(confident({ stationId: 'kept' }));
      selector.consider(uncertain({ stationId: `station-${i}` }));
    }
    expect(selector.consider(uncertain({ stationId: 'kept', imageHash: hash }))).toEqual({ selected: false, skipped: 'near_duplicate' });
    expect(selector.consider(uncertain({ stationId: 'forgotten', imageHash: hash }))).toMatchObject({ selected: true });
  });

  it('applies a new policy to the next candidate and keeps what was spent', () => {
    const { selector } = harness({ samplesPerHour: 5 }, [0.5]);
    for (let i = 0; i < 3; i++) expect(selector.consider(uncertain())).toMatchObject({ selected: true });
    selector.setPolicy(parseSamplingPolicy({ samplesPerHour: 3 }));
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'hourly_budget' });
    selector.setPolicy(parseSamplingPolicy({ samplesPerHour: 10, minUncertainty: 0.95, randomShare: 0 }));
    expect(selector.consider(uncertain())).toEqual({ selected: false, skipped: 'confident' });
    selector.setPolicy(parseSamplingPolicy({ samplesPerHour: 10, measure: 'least_confidence', minUncertainty: 0.4 }));
    expect(selector.consider(uncertain())).toMatchObject({ selected: true, reason: 'least_confidence' });
  });

  it('draws the random share before looking at the answer, so uncertain inspections are in it too', () => {
    const { selector } = harness({ randomShare: 0.1 }, [0.05]);
    expect(selector.consider(uncertain())).toMatchObject({ selected: true, reason: 'random_calibration', priority: 0.05, uncertain: true });
    expect(selector.consider(uncertain())).toMatchObject({ selected: true, reason: 'margin', uncertain: true });
  });

  it('chooses the random share whatever the answers, so it is a fair sample of the line', () => {
    const answers = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 });
    const draws = fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 40, maxLength: 40 });
    fc.assert(
      fc.property(answers, answers, draws, (first, second, randoms) => {
        const randomPicks = (tops: number[]) => {
          const { selector } = harness({ randomShare: 0.2, samplesPerHour: 10_000, perClassPerHour: 10_000 }, [...randoms]);
          return tops.map((top) => selector.pick(uncertain({ prediction: classified('Defective', top) }))).map((pick) => pick.selected && pick.reason === 'random_calibration');
        };
        const length = Math.min(first.length, second.length);
        expect(randomPicks(first.slice(0, length))).toEqual(randomPicks(second.slice(0, length)));
      }),
    );
  });

  it('says whether a skipped inspection was uncertain', () => {
    const { selector } = harness({ diversity: 1, randomShare: 0 });
    expect(selector.pick(confident())).toEqual({ selected: false, skipped: 'confident', uncertain: false });
    const features = new Float32Array([1, 0]);
    expect(selector.consider(uncertain({ features }))).toMatchObject({ selected: true });
    expect(selector.pick(uncertain({ features }))).toEqual({ selected: false, skipped: 'redundant', uncertain: true });
  });
});

describe('SampleSelector with feature vectors', () => {
  const near = new Float32Array([1, 0.05]);
  const far = new Float32Array([0.2, 1]);

  it('holds back an uncertain inspection close in feature space to a recent selection at the station', () => {
    const { selector } = harness({ diversity: 0.5, randomShare: 0 });
    // Nothing selected yet: novelty 1, so the value is sqrt(0.9 * 1).
    expect(selector.consider(uncertain({ features: new Float32Array([1, 0]) }))).toMatchObject({ selected: true, priority: expect.closeTo(Math.sqrt(0.9), 10) as unknown });
    expect(selector.consider(uncertain({ features: near }))).toEqual({ selected: false, skipped: 'redundant' });
    expect(selector.consider(uncertain({ stationId: 'station-2', features: near }))).toMatchObject({ selected: true });
    const spread = selector.consider(uncertain({ features: far }));
    expect(spread).toMatchObject({ selected: true, reason: 'margin', uncertainty: expect.closeTo(0.9, 10) as unknown });
    if (!spread.selected) expect.unreachable();
    // sqrt(0.9 * novelty), the novelty being the distance to [1, 0], station-1's only selection (`near` was held back).
    expect(spread.priority).toBeCloseTo(Math.sqrt(0.9 * (1 - 0.2 / Math.hypot(0.2, 1))), 6);
  });

  it('weighs nothing but uncertainty at diversity 0 or without features', () => {
    const { selector } = harness({ diversity: 0, randomShare: 0 });
    expect(selector.consider(uncertain({ features: far }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ features: far }))).toMatchObject({ selected: true, priority: expect.closeTo(0.9, 10) as unknown });
    const spreadOut = harness({ diversity: 0.5, randomShare: 0 }).selector;
    expect(spreadOut.consider(uncertain({ features: far }))).toMatchObject({ selected: true });
    expect(spreadOut.consider(uncertain())).toMatchObject({ selected: true, priority: expect.closeTo(0.9, 10) as unknown });
  });

  it('never picks a confident inspection for its spread alone', () => {
    const { selector } = harness({ diversity: 1, randomShare: 0 });
    expect(selector.consider(confident({ features: far }))).toEqual({ selected: false, skipped: 'confident' });
  });

  it('remembers only the features of admitted selections', () => {
    const { selector } = harness({ diversity: 0.5, randomShare: 0, samplesPerHour: 1 });
    expect(selector.consider(uncertain({ features: far }))).toMatchObject({ selected: true });
    expect(selector.consider(uncertain({ features: new Float32Array([1, 0]) }))).toEqual({ selected: false, skipped: 'hourly_budget' });
    // Had [1, 0] been remembered, `near` would be redundant.
    expect(selector.pick(uncertain({ features: near }))).toMatchObject({ selected: true });
  });
});

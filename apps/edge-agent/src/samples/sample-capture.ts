import { randomUUID } from 'node:crypto';
import type { Inspection } from '@loupe/inference';
import { SampleUpload, SelectionReason } from '@loupe/proto';
import { differenceHash, type SampleSelector, type Selection, type SelectionCandidate, type SelectionReasonName } from '@loupe/sampling';
import { InFlight } from '@loupe/service';
import type { Logger } from 'pino';
import type { ModelStats } from '../models/model-stats';
import type { AgentMetrics } from '../status/agent-metrics';
import { fitSampleImage } from './sample-image';
import type { SampleOutbox } from './sample-outbox';

const REASONS: Record<SelectionReasonName, SelectionReason> = {
  least_confidence: SelectionReason.SELECTION_REASON_LEAST_CONFIDENCE,
  margin: SelectionReason.SELECTION_REASON_MARGIN,
  entropy: SelectionReason.SELECTION_REASON_ENTROPY,
  anomaly_near_threshold: SelectionReason.SELECTION_REASON_ANOMALY_NEAR_THRESHOLD,
  detection_near_threshold: SelectionReason.SELECTION_REASON_DETECTION_NEAR_THRESHOLD,
  random_calibration: SelectionReason.SELECTION_REASON_RANDOM_CALIBRATION,
};

/** One answered inspection, as the sampler sees it. */
export interface InspectedImage {
  stationId: string;
  unitSerial: string;
  image: Buffer;
  inspection: Inspection;
  task: SelectionCandidate['task'];
  detectionScoreThreshold?: number;
  capturedAt: Date;
}

/**
 * Turns answered inspections into samples: asks the selector, and for a
 * selected image hashes it, fits it to the size limit, encodes the
 * SampleUpload and offers it to the outbox. All of it runs after the
 * station has its answer; nothing here can delay or fail an inspection.
 */
export class SampleCapture {
  private readonly log: Logger;
  private readonly pending = new InFlight();

  constructor(
    private readonly selector: SampleSelector,
    private readonly outbox: SampleOutbox,
    private readonly onStored: () => void,
    private readonly device: { siteId: string; deviceId: string },
    private readonly maxImageBytes: number,
    private readonly metrics: AgentMetrics,
    private readonly modelStats: ModelStats,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'sample-capture' });
  }

  /** Considers an inspection in the background. */
  consider(inspected: InspectedImage): void {
    const candidate = {
      stationId: inspected.stationId,
      task: inspected.task,
      prediction: inspected.inspection.prediction,
      imageBytes: inspected.image.byteLength,
      ...(inspected.detectionScoreThreshold === undefined ? {} : { detectionScoreThreshold: inspected.detectionScoreThreshold }),
    };
    const picked = this.selector.pick(candidate);
    // Uncertain by the policy's measure, whether or not it is picked or a budget lets it be uploaded.
    if (picked.uncertain) this.modelStats.uncertain(inspected.inspection.model);
    if (!picked.selected) {
      this.metrics.samplesConsidered.inc({ outcome: picked.skipped });
      return;
    }
    const work = this.store(inspected, candidate, picked).catch((error: unknown) =>
      this.log.error({ err: (error as Error).message }, 'sample could not be captured'),
    );
    void this.pending.track(work);
  }

  /** Waits for captures in progress to reach the outbox. */
  async settle(): Promise<void> {
    await this.pending.drain();
  }

  private async store(
    inspected: InspectedImage,
    candidate: Omit<SelectionCandidate, 'imageHash'>,
    picked: Selection,
  ): Promise<void> {
    const image = await fitSampleImage(inspected.image, this.maxImageBytes);
    if (!image) {
      this.metrics.samplesConsidered.inc({ outcome: 'unreadable_image' });
      this.log.warn({ stationId: inspected.stationId, bytes: inspected.image.byteLength }, 'selected image cannot be stored within SAMPLE_MAX_IMAGE_BYTES; skipped');
      return;
    }
    const imageHash = await differenceHash(image.bytes).catch(() => 0n);
    const decision = this.selector.admit({ ...candidate, imageBytes: image.bytes.byteLength, imageHash }, picked);
    if (!decision.selected) {
      this.metrics.samplesConsidered.inc({ outcome: decision.skipped });
      return;
    }
    this.metrics.samplesConsidered.inc({ outcome: 'selected' });
    this.metrics.samplesSelected.inc({ reason: decision.reason });
    const { inspection } = inspected;
    const sampleId = randomUUID();
    const upload = SampleUpload.fromPartial({
      sampleId,
      device: this.device,
      stationId: inspected.stationId,
      unitSerial: inspected.unitSerial,
      capturedAt: inspected.capturedAt,
      model: inspection.model,
      prediction: {
        verdict: inspection.prediction.verdict,
        scores: inspection.prediction.scores,
        boxes: inspection.prediction.boxes,
        ...(inspection.prediction.anomaly ? { anomalyScore: inspection.prediction.anomaly.score } : {}),
      },
      image: image.bytes,
      imageMediaType: image.mediaType,
      priority: decision.priority,
      reason: REASONS[decision.reason],
      attempt: 1,
    });
    const stored = await this.outbox.offer(
      { id: sampleId, priority: decision.priority, capturedAtMs: inspected.capturedAt.getTime() },
      SampleUpload.encode(upload).finish(),
    );
    if (!stored) return;
    this.log.debug({ sampleId, stationId: inspected.stationId, priority: decision.priority, reason: decision.reason }, 'sample accepted');
    this.onStored();
  }
}

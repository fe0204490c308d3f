import type { handleBidiStreamingCall, handleUnaryCall, ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { DamagedImageError, type Inspection, type ModelSlot } from '@loupe/inference';
import type { InspectRequest, InspectResponse } from '@loupe/proto';
import { InFlight } from '@loupe/service';
import type { Logger } from 'pino';
import type { ModelStats } from '../models/model-stats';
import type { ShadowComparison } from '../shadow/shadow-comparison';
import type { InspectedImage, SampleCapture } from '../samples/sample-capture';
import type { AgentMetrics } from '../status/agent-metrics';
import { InvalidInspectRequestError, toInspectFailure, type InspectFailure } from './inspect-errors';
import { checkInspectRequest, echoableRequestId } from './inspect-request';
import type { ReceivedInspectRequest } from './inspect-request-decoding';

/** The Inspect service as the agent serves it: its deserializer hands over a ReceivedInspectRequest. */
export type InspectImplementation = {
  inspect: handleUnaryCall<ReceivedInspectRequest, InspectResponse>;
  inspectStream: handleBidiStreamingCall<ReceivedInspectRequest, InspectResponse>;
};

/**
 * The Inspect gRPC API: thin handlers that check the request, hand the
 * image to the active model and translate the answer. Unary calls fail
 * with a gRPC status; on a stream each failure is an answer with `error`
 * set, so one bad image does not end a station's stream.
 */
export class InspectHandlers {
  private readonly log: Logger;

  constructor(
    private readonly slot: ModelSlot,
    private readonly capture: SampleCapture,
    private readonly metrics: AgentMetrics,
    private readonly modelStats: ModelStats,
    private readonly shadow: ShadowComparison,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'inspect' });
  }

  service(): InspectImplementation {
    return {
      inspect: (call, callback) => void this.unary(call, callback),
      inspectStream: (call) => this.stream(call),
    };
  }

  private async unary(call: ServerUnaryCall<ReceivedInspectRequest, InspectResponse>, callback: sendUnaryData<InspectResponse>) {
    const outcome = await this.judge(call.request, deadlineOf(call.getDeadline()));
    if ('failure' in outcome) callback(outcome.failure.answer);
    else {
      callback(null, outcome.response);
      this.capture.consider(outcome.inspected);
      this.shadow.offer(outcome.inspected.image, outcome.inspected.inspection);
    }
  }

  private stream(call: ServerDuplexStream<ReceivedInspectRequest, InspectResponse>): void {
    const pending = new InFlight();
    call.on('data', (received: ReceivedInspectRequest) => {
      const work = this.judge(received, deadlineOf(call.getDeadline())).then((outcome) => {
        const response =
          'failure' in outcome
            ? { requestId: requestIdOf(received), provider: '', error: { code: codeName(outcome.failure), message: outcome.failure.message } }
            : outcome.response;
        if (!call.writableEnded && !call.destroyed) call.write(response);
        if ('inspected' in outcome) {
          this.capture.consider(outcome.inspected);
          this.shadow.offer(outcome.inspected.image, outcome.inspected.inspection);
        }
      });
      void pending.track(work);
    });
    call.on('end', () => {
      void pending.drain().then(() => call.end());
    });
    call.on('error', (error) => this.log.debug({ err: error.message }, 'inspect stream ended by the client'));
  }

  private async judge(
    received: ReceivedInspectRequest,
    deadline: number,
  ): Promise<{ response: InspectResponse; inspected: InspectedImage } | { failure: InspectFailure }> {
    try {
      if ('refused' in received) throw new InvalidInspectRequestError(received.refused);
      const { request } = received;
      checkInspectRequest(request);
      const capturedAt = new Date();
      const { inspection, manifest } = await this.slot.use(async (pipeline) => ({
        inspection: await pipeline.inspect(request.image, deadline),
        manifest: pipeline.model.manifest,
      }));
      this.record(inspection);
      const { output } = manifest;
      const inspected: InspectedImage = {
        stationId: request.stationId,
        unitSerial: request.unitSerial,
        image: request.image,
        inspection,
        task: manifest.task,
        ...(output.task === 'detection' ? { detectionScoreThreshold: output.scoreThreshold } : {}),
        capturedAt,
      };
      return { response: toResponse(request.requestId, inspection), inspected };
    } catch (error) {
      const failure = toInspectFailure(error);
      this.metrics.inspectErrors.inc({ kind: failure.kind });
      if (error instanceof DamagedImageError) this.metrics.damagedImages.inc();
      // Only failures of the model count against it; a bad image or a full queue says nothing about the model.
      if (failure.kind === 'internal') this.modelStats.failed();
      const context = 'request' in received ? logContext(received.request) : { requestId: received.requestId };
      if (failure.kind === 'internal') this.log.error({ ...context, err: error }, 'inspect failed');
      else this.log.debug({ ...context, reason: failure.message }, 'inspect refused');
      return { failure };
    }
  }

  private record(inspection: Inspection): void {
    const { prediction, timings, batchSize } = inspection;
    const stages = this.metrics.stageSeconds;
    stages.observe({ stage: 'decode' }, timings.decodeMs / 1000);
    stages.observe({ stage: 'preprocess' }, timings.preprocessMs / 1000);
    stages.observe({ stage: 'queue' }, timings.queueMs / 1000);
    stages.observe({ stage: 'inference' }, timings.inferenceMs / 1000);
    stages.observe({ stage: 'postprocess' }, timings.postprocessMs / 1000);
    stages.observe({ stage: 'total' }, timings.totalMs / 1000);
    this.metrics.batchSize.observe(batchSize);
    this.metrics.verdicts.inc({ verdict: prediction.verdict });
    this.modelStats.inspected(inspection);
  }
}

/** gRPC deadlines are wall-clock; the batcher counts on the monotonic clock. */
function deadlineOf(deadline: Date | number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? performance.now() + (at - Date.now()) : Number.POSITIVE_INFINITY;
}

function requestIdOf(received: ReceivedInspectRequest): string {
  return 'request' in received ? echoableRequestId(received.request.requestId) : received.requestId;
}

/** Ids as they came, cut short: a refused request may carry anything in them. */
function logContext(request: InspectRequest): { stationId: string; unitSerial: string; requestId: string } {
  return { stationId: request.stationId.slice(0, 80), unitSerial: request.unitSerial.slice(0, 160), requestId: request.requestId.slice(0, 160) };
}

function codeName(failure: InspectFailure): string {
  return failure.kind.toUpperCase();
}

function toResponse(requestId: string, inspection: Inspection): InspectResponse {
  const { prediction, model, provider, timings } = inspection;
  return {
    requestId,
    prediction: {
      verdict: prediction.verdict,
      scores: prediction.scores,
      boxes: prediction.boxes,
      ...(prediction.anomaly ? { anomalyScore: prediction.anomaly.score } : {}),
    },
    model,
    provider,
    timings: {
      decodeMs: timings.decodeMs,
      preprocessMs: timings.preprocessMs,
      queueMs: timings.queueMs,
      inferenceMs: timings.inferenceMs,
      postprocessMs: timings.postprocessMs,
      totalMs: timings.totalMs,
    },
  };
}

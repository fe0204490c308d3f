/**
 * A simulated camera station for `npm start`: sends the demo images to the
 * edge agent's Inspect API over one InspectStream, one unit every
 * CAMERA_INTERVAL, and logs each verdict. Units sent while the agent is
 * still loading its model come back UNAVAILABLE, as a real line would see.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { envDurationMs, loadConfig } from '@loupe/config';
import { InspectServiceClient, type InspectResponse } from '@loupe/proto';
import { createLogger } from '@loupe/service';
import { z } from 'zod';

const config = loadConfig(
  'loupe camera simulator',
  z.object({
    INSPECT_ADDRESS: z.string().min(1).default('127.0.0.1:50051'),
    CAMERA_INTERVAL: envDurationMs().prefault('1s'),
    STATION_ID: z.string().min(1).default('demo-camera'),
  }),
  process.env,
);
const logger = createLogger('camera-sim', 'info');

// The demo model's images: windows of DeepPCB boards, each defect followed by the same window on its defect-free template.
const folder = join(import.meta.dirname, 'images', 'deeppcb-crops');
const windowOf = (name: string) => name.slice(name.indexOf('_') + 1);
const images = (await readdir(folder))
  .filter((name) => /\.(png|jpe?g|bmp|tiff?|webp)$/i.test(name))
  .sort((a, b) => windowOf(a).localeCompare(windowOf(b)) || a.localeCompare(b))
  .map((name) => join(folder, name));

const client = new InspectServiceClient(config.INSPECT_ADDRESS, credentials.createInsecure());
const stream = client.inspectStream();
stream.on('data', (response: InspectResponse) => {
  if (response.error) {
    logger.warn({ unit: response.requestId, code: response.error.code }, response.error.message);
    return;
  }
  const top = response.prediction?.scores[0];
  logger.info(
    {
      unit: response.requestId,
      verdict: response.prediction?.verdict,
      top: top ? `${top.label} ${top.score.toFixed(3)}` : undefined,
      model: `${response.model?.name}@${response.model?.version}`,
      ms: Number(response.timings?.totalMs.toFixed(1)),
    },
    'inspected',
  );
});
stream.on('error', (error) => {
  logger.error({ err: error.message }, 'Inspect stream failed');
  process.exit(1);
});

let unit = 0;
const timer = setInterval(() => {
  void (async () => {
    const path = images[unit % images.length]!;
    unit++;
    stream.write({
      requestId: `unit-${unit}`,
      stationId: config.STATION_ID,
      unitSerial: `SN-${String(unit).padStart(6, '0')}`,
      image: await readFile(path),
    });
  })();
}, config.CAMERA_INTERVAL);
logger.info({ images: images.length, inspectAddress: config.INSPECT_ADDRESS }, 'camera simulator started');

const stop = () => {
  clearInterval(timer);
  stream.end();
  client.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

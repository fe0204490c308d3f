import { z } from 'zod';

/** One edge device as the cloud last heard from it (`GET /api/devices`). */
export const deviceSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  agentVersion: z.string(),
  /** The model the device reported running; null before its first model. */
  model: z.object({ name: z.string(), version: z.string() }).nullable(),
  /** Execution provider in use: tensorrt, cuda or cpu. */
  provider: z.string().nullable(),
  firstSeenAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
});
export type DeviceDto = z.infer<typeof deviceSchema>;

export const deviceListResponseSchema = z.object({ devices: z.array(deviceSchema) });
export type DeviceListResponse = z.infer<typeof deviceListResponseSchema>;

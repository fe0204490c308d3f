import { z } from 'zod';

/** The body of every 4xx/5xx answer from the cloud's REST API. */
export const apiErrorSchema = z.object({
  statusCode: z.number().int(),
  /** Stable, machine-readable: `not_found`, `invalid_request`, ... */
  error: z.string(),
  /** For people: what went wrong and what to change. */
  message: z.string(),
  /** Per-field problems of an invalid request. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

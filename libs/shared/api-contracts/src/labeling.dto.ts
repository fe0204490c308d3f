import { z } from 'zod';

export const ROLE_NAMES = ['labeler', 'reviewer', 'engineer', 'admin'] as const;

/** `POST /api/auth/login` */
export const loginRequestSchema = z.object({
  email: z.email({ message: 'email must be an email address' }),
  password: z.string().min(1, 'password is required'),
});
export type LoginRequest = z.infer<typeof loginRequestSchema>;

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLE_NAMES),
});
export type UserDto = z.infer<typeof userSchema>;

export const loginResponseSchema = z.object({
  /** Send as `Authorization: Bearer <token>`. */
  token: z.string(),
  expiresAt: z.iso.datetime(),
  user: userSchema,
});
export type LoginResponse = z.infer<typeof loginResponseSchema>;

/** `POST /api/users` (admin) */
export const createUserRequestSchema = z.object({
  email: z.email({ message: 'email must be an email address' }),
  name: z.string().min(1, 'name is required').max(200),
  role: z.enum(ROLE_NAMES, { message: `role must be one of ${ROLE_NAMES.join(', ')}` }),
  password: z.string().min(12, 'password must have at least 12 characters').max(1_000),
});
export type CreateUserRequest = z.infer<typeof createUserRequestSchema>;

export const userListResponseSchema = z.object({ users: z.array(userSchema) });

export const PROJECT_TASKS = ['classification', 'detection', 'anomaly'] as const;

/** `POST /api/projects` (engineer, admin) */
export const createProjectRequestSchema = z.object({
  name: z.string().min(1, 'name is required').max(200),
  /** Samples of this model are queued in the project. */
  modelName: z.string().min(1, 'modelName is required').max(200),
  task: z.enum(PROJECT_TASKS, { message: `task must be one of ${PROJECT_TASKS.join(', ')}` }),
  classes: z
    .array(z.string().min(1).max(100))
    .min(1, 'classes needs at least one class')
    .max(9, 'classes has at most 9 entries: keys 1-9 answer them')
    .refine((classes) => new Set(classes).size === classes.length, 'classes must not repeat'),
  /** Agreeing answers that settle a sample. */
  consensus: z.number().int().min(1).max(10).default(1),
});
export type CreateProjectRequest = z.infer<typeof createProjectRequestSchema>;

export const projectSchema = createProjectRequestSchema.extend({ id: z.uuid(), consensus: z.number().int() });
export type ProjectDto = z.infer<typeof projectSchema>;
export const projectListResponseSchema = z.object({ projects: z.array(projectSchema) });

/** A claimed sample: show it, then answer with its token before `expiresAt` (heartbeat to extend). */
export const claimSchema = z.object({
  sampleId: z.uuid(),
  token: z.string(),
  expiresAt: z.iso.datetime(),
  imageUrl: z.string(),
  stationId: z.string(),
  capturedAt: z.iso.datetime(),
  modelVersion: z.string(),
  verdict: z.string(),
  prediction: z.unknown(),
  reason: z.string(),
});
export type ClaimDto = z.infer<typeof claimSchema>;

/** `POST /api/projects/:id/claims`: the next sample, or null when the queue has nothing for you. */
export const claimResponseSchema = z.object({
  claim: claimSchema.nullable(),
  queueDepth: z.number().int(),
  /** Samples the caller answered since midnight (the database's time zone). */
  doneToday: z.number().int(),
});
export type ClaimResponse = z.infer<typeof claimResponseSchema>;

/** `GET /api/projects/:id/progress`: the queue screen's counters for one project. */
export const projectProgressResponseSchema = z.object({
  /** Samples the caller answered in this project since midnight (the database's time zone); `doneToday` in a claim counts every project. */
  doneTodayInProject: z.number().int(),
  /** Samples waiting for an answer in the project, leased ones included, as in a claim. */
  queueDepth: z.number().int(),
});
export type ProjectProgressResponse = z.infer<typeof projectProgressResponseSchema>;

/** The lease a call acts on. */
export const leaseRequestSchema = z.object({ token: z.string().regex(/^\d+$/, 'token must be the token from the claim') });

const boxesSchema = z
  .array(z.object({ className: z.string().min(1), x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() }))
  .max(500);

/** `POST /api/claims/:sampleId/submit` */
export const submitRequestSchema = leaseRequestSchema.extend({
  /** The class, for classification and anomaly projects. */
  className: z.string().min(1).max(100).optional(),
  /** Boxes in image pixels, for detection projects. */
  boxes: boxesSchema.optional(),
  /** Milliseconds the labeler spent on the sample. */
  spentMs: z.number().int().min(0).max(86_400_000),
  /** Also claim the next sample of the same project, in the same request (saves a round trip per answer). */
  claimNext: z.boolean().default(false),
});
export type SubmitRequest = z.input<typeof submitRequestSchema>;

export const submitResponseSchema = z.object({
  state: z.enum(['open', 'review', 'done']),
  /** With `claimNext`: what `POST /api/projects/:id/claims` would have answered. */
  next: claimResponseSchema.optional(),
});
export type SubmitResponse = z.infer<typeof submitResponseSchema>;

/**
 * `POST /api/claims/:sampleId/undo`: takes back your answer on the sample
 * (within LABEL_LEASE of giving it, before a reviewer decided it, while no
 * one else holds it) and claims the sample for you again, so you can answer
 * it anew.
 */
export const undoResponseSchema = z.object({ claim: claimSchema, doneToday: z.number().int() });
export type UndoResponse = z.infer<typeof undoResponseSchema>;

/** One labeler's answer, as a reviewer sees it. */
export const answerSchema = z.object({
  labeler: z.string(),
  className: z.string().optional(),
  boxes: boxesSchema.optional(),
  spentMs: z.number().int(),
});

/** A sample the labelers disagreed on, claimed by a reviewer under a lease. */
export const reviewSchema = claimSchema.extend({ answers: z.array(answerSchema) });
export type ReviewDto = z.infer<typeof reviewSchema>;

/** `POST /api/projects/:id/reviews`: the next disagreement, or null when there is none for you. */
export const reviewClaimResponseSchema = z.object({
  review: reviewSchema.nullable(),
  /** Disagreements waiting in the project, claimed ones included. */
  reviewDepth: z.number().int(),
});
export type ReviewClaimResponse = z.infer<typeof reviewClaimResponseSchema>;

/** `POST /api/reviews/:sampleId/decide`: the final answer; settles the sample. */
export const decideRequestSchema = leaseRequestSchema.extend({
  className: z.string().min(1).max(100).optional(),
  boxes: boxesSchema.optional(),
});
export type DecideRequest = z.infer<typeof decideRequestSchema>;
export const heartbeatResponseSchema = z.object({ expiresAt: z.iso.datetime() });

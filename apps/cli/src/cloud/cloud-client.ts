import {
  apiErrorSchema,
  deviceListResponseSchema,
  loginResponseSchema,
  enrollmentTokenSchema,
  mosquittoConfigResponseSchema,
  projectListResponseSchema,
  revokeDeviceResponseSchema,
  rolloutDetailSchema,
  rolloutListResponseSchema,
  rolloutSchema,
  trainingRunListResponseSchema,
  promotionSchema,
  trainingRunSchema,
  type CreateEnrollmentTokenRequest,
  type DeviceListResponse,
  type EnrollmentTokenDto,
  type MosquittoConfigResponse,
  type LoginResponse,
  type RolloutDetailDto,
  type RolloutDto,
  type ProjectDto,
  type StartRolloutRequest,
  type StartTrainingRunRequest,
  type TrainingRunDto,
} from '@loupe/api-contracts';
import type { z } from 'zod';
import { CloudFailedError, CloudRefusedError } from './cloud.errors';
import { describeNetworkFailure } from './network-failure';

// A person is waiting at the terminal; a cloud that accepts the connection
// but never answers should not hang the command.
const REQUEST_TIMEOUT_MS = 10_000;

const WHERE_TO_POINT = 'set LOUPE_CLOUD_URL or --cloud-url';

/** The cloud's REST API, as the CLI uses it. Every answer is checked against the shared contract. */
export class CloudClient {
  /** `baseUrl` ends with `/`; API paths are resolved relative to it. */
  constructor(
    private readonly baseUrl: URL,
    private readonly fetchFn: typeof fetch,
    private readonly token?: string,
  ) {}

  /** Every device the cloud knows, or only those enrolled in `fleetGroup`. */
  listDevices(fleetGroup?: string): Promise<DeviceListResponse> {
    const query = fleetGroup === undefined ? '' : `?${new URLSearchParams({ group: fleetGroup }).toString()}`;
    return this.getJson(`api/fleet/devices${query}`, deviceListResponseSchema);
  }

  startRollout(request: StartRolloutRequest): Promise<RolloutDto> {
    return this.postJson('api/rollouts', request, rolloutSchema);
  }

  listRollouts(): Promise<{ rollouts: RolloutDto[] }> {
    return this.getJson('api/rollouts', rolloutListResponseSchema);
  }

  rollout(id: string): Promise<RolloutDetailDto> {
    return this.getJson(`api/rollouts/${encodeURIComponent(id)}`, rolloutDetailSchema);
  }

  rolloutCommand(id: string, command: 'pause' | 'resume' | 'abort' | 'promote', reason: string): Promise<RolloutDto> {
    return this.postJson(`api/rollouts/${encodeURIComponent(id)}/${command}`, { reason }, rolloutSchema);
  }

  async listProjects(): Promise<ProjectDto[]> {
    return (await this.getJson('api/projects', projectListResponseSchema)).projects;
  }

  startTrainingRun(projectId: string, request: StartTrainingRunRequest): Promise<TrainingRunDto> {
    return this.postJson(`api/projects/${encodeURIComponent(projectId)}/training-runs`, request, trainingRunSchema);
  }

  async listTrainingRuns(projectId: string): Promise<TrainingRunDto[]> {
    return (await this.getJson(`api/projects/${encodeURIComponent(projectId)}/training-runs`, trainingRunListResponseSchema)).runs;
  }

  trainingRun(id: string): Promise<TrainingRunDto> {
    return this.getJson(`api/training-runs/${encodeURIComponent(id)}`, trainingRunSchema);
  }

  /** Approve (its rollout starts) or reject a run's candidate; the reason goes into the audit log. */
  /** The cloud answers with the candidate's promotion; the run as it now stands is read after it. */
  async decideTrainingRun(id: string, decision: 'approve' | 'reject', reason: string): Promise<TrainingRunDto> {
    await this.postJson(`api/training-runs/${encodeURIComponent(id)}/${decision}`, { reason }, promotionSchema);
    return this.trainingRun(id);
  }

  createEnrollmentToken(request: CreateEnrollmentTokenRequest): Promise<EnrollmentTokenDto> {
    return this.postJson('api/fleet/enrollment-tokens', request, enrollmentTokenSchema);
  }

  revokeDevice(siteId: string, deviceId: string): Promise<{ siteId: string; deviceId: string; revokedAt: string }> {
    return this.postJson(`api/fleet/devices/${encodeURIComponent(siteId)}/${encodeURIComponent(deviceId)}/revoke`, {}, revokeDeviceResponseSchema);
  }

  mosquittoConfig(query: { directory: string; devicePort: number; servicePort: number }): Promise<MosquittoConfigResponse> {
    const search = new URLSearchParams({ directory: query.directory, devicePort: String(query.devicePort), servicePort: String(query.servicePort) });
    return this.getJson(`api/fleet/mosquitto-config?${search.toString()}`, mosquittoConfigResponseSchema);
  }

  /** Signs in with email and password; the answer carries the session token. */
  async login(email: string, password: string): Promise<LoginResponse> {
    const url = new URL('api/auth/login', this.baseUrl);
    const request = `POST ${url.href}`;
    const response = await this.send(url, true, { method: 'POST', body: JSON.stringify({ email, password }) });
    const body = await readBody(response, request);
    if (response.status === 401) throw new CloudRefusedError('the cloud refused the sign-in: email or password is wrong');
    if (response.status >= 400) throw errorForStatus(response, body, request);
    return decode(body, loginResponseSchema, request);
  }

  /** Starts a download and hands back the open response; refusals and failures throw like any other call. */
  async download(path: string): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const response = await this.send(url, false);
    if (response.status >= 400) throw errorForStatus(response, await readBody(response, `GET ${url.href}`), `GET ${url.href}`);
    return response;
  }

  private async getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const request = `GET ${url.href}`;
    const response = await this.send(url);
    const body = await readBody(response, request);
    if (response.status >= 400) throw errorForStatus(response, body, request);
    return decode(body, schema, request);
  }

  private async postJson<T>(path: string, payload: unknown, schema: z.ZodType<T>): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const request = `POST ${url.href}`;
    const response = await this.send(url, true, { method: 'POST', body: JSON.stringify(payload) });
    const body = await readBody(response, request);
    if (response.status >= 400) throw errorForStatus(response, body, request);
    return decode(body, schema, request);
  }

  /** `timeout` off for downloads, which may rightly take long; the connection still fails fast. */
  private async send(url: URL, timeout = true, post?: { method: 'POST'; body: string }): Promise<Response> {
    try {
      return await this.fetchFn(url, {
        ...post,
        headers: {
          accept: 'application/json',
          ...(post ? { 'content-type': 'application/json' } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        ...(timeout ? { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } : {}),
      });
    } catch (error) {
      const reason = isTimeout(error)
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : describeNetworkFailure(error);
      throw new CloudFailedError(
        `cannot reach the cloud at ${this.baseUrl.href}: ${reason}; is it running (npm start)? ${WHERE_TO_POINT}`,
        { cause: error },
      );
    }
  }
}

async function readBody(response: Response, request: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    const reason = describeNetworkFailure(error);
    throw new CloudFailedError(`${request}: lost the connection while reading the answer (${reason})`, { cause: error });
  }
}

function decode<T>(body: string, schema: z.ZodType<T>, request: string): T {
  const json = parseJson(body);
  if (json === undefined) {
    throw new CloudFailedError(`${request} answered with something other than JSON; is that a Loupe cloud? ${WHERE_TO_POINT}`);
  }
  const result = schema.safeParse(json.value);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
  throw new CloudFailedError(
    `${request} answered with a body the CLI does not understand (${problems}); ` +
      `is this a Loupe cloud of the same version? ${WHERE_TO_POINT}`,
  );
}

/** The parsed body, or undefined when it is not JSON (say, a proxy's HTML error page). */
function parseJson(body: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(body) };
  } catch {
    return undefined;
  }
}

function errorForStatus(response: Response, body: string, request: string): Error {
  const apiError = apiErrorSchema.safeParse(parseJson(body)?.value);
  const issues = apiError.success ? (apiError.data.issues ?? []) : [];
  const detail = apiError.success
    ? [apiError.data.message, ...issues.map((issue) => `${issue.path}: ${issue.message}`)].join('; ')
    : response.statusText;
  const status = `${response.status}${apiError.success ? ` ${apiError.data.error}` : ''}`;
  if (response.status === 401) return new CloudRefusedError(`the cloud refused ${request} (${status}): ${detail}; set LOUPE_TOKEN to your session token`);
  if (response.status < 500) return new CloudRefusedError(`the cloud refused ${request} (${status}): ${detail}`);
  return new CloudFailedError(`the cloud failed on ${request} (${status}): ${detail}; its logs say why`);
}

function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'TimeoutError';
}

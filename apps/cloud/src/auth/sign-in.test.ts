import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';
import { TEST_ADMIN_PASSWORD } from '../testing/test-cloud-config';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  message: string;
}

describe('sign-in under a burst of attempts, on Postgres', () => {
  let testCloud: TestCloud;
  const LIMITS = { attemptsPerAddress: 5, attemptsPerAccount: 3, windowMs: 60_000, hashing: { concurrent: 1, waiting: 1 } };

  beforeAll(async () => {
    testCloud = await startTestCloud({ signIn: LIMITS });
  });

  afterAll(async () => {
    await testCloud?.stop();
  });

  /**
   * Signs in from a loopback address of the test's choosing (all of
   * 127.0.0.0/8 reaches the cloud on 127.0.0.1), so each test has its own
   * client address to count against.
   */
  function signIn(email: string, password: string, from: string): Promise<Answer> {
    const body = JSON.stringify({ email, password });
    const url = new URL('/api/auth/login', testCloud.cloud.httpUrl);
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: string };
            const retryAfter = response.headers['retry-after'];
            resolve({ status: response.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, message: answer.message ?? '' });
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  it('refuses an account its fourth attempt in the window from any address, with Retry-After, and leaves other accounts alone', async () => {
    for (let attempt = 0; attempt < LIMITS.attemptsPerAccount; attempt++) {
      expect((await signIn('Target@loupe.test', `guess-${attempt}`, '127.0.0.10')).status).toBe(401);
    }
    // Same account, another address, the email spelt another way: still the same account.
    const throttled = await signIn(' target@LOUPE.test', 'guess-x', '127.0.0.11');
    expect(throttled).toMatchObject({ status: 429, message: expect.stringMatching(/too many sign-in attempts for this account: at most 3 per 60 s; try again in \d+ s/) as unknown });
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    expect(Number(throttled.retryAfter)).toBeLessThanOrEqual(60);
    expect((await signIn('other@loupe.test', 'guess', '127.0.0.11')).status).toBe(401);
  });

  it('refuses an address past its attempts in the window, whatever the accounts, and leaves other addresses alone', async () => {
    for (let attempt = 0; attempt < LIMITS.attemptsPerAddress; attempt++) {
      expect((await signIn(`spray-${attempt}@loupe.test`, 'guess', '127.0.0.20')).status).toBe(401);
    }
    const throttled = await signIn('admin@loupe.test', TEST_ADMIN_PASSWORD, '127.0.0.20');
    expect(throttled).toMatchObject({ status: 429, message: expect.stringMatching(/too many sign-in attempts from this address: at most 5 per 60 s/) as unknown });
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    expect((await signIn('admin@loupe.test', TEST_ADMIN_PASSWORD, '127.0.0.21')).status).toBe(200);
  });

  it('checks one password at a time with one waiting, refusing the rest of a burst with 503 and Retry-After, and signs in after it', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, (_, index) => signIn(`burst-${index}@loupe.test`, 'guess', `127.0.0.${30 + index}`)));
    expect(burst.every((answer) => answer.status === 401 || answer.status === 503)).toBe(true);
    const busy = burst.filter((answer) => answer.status === 503);
    // Eight arrive while the first ~100 ms hash runs; two slots (one running, one waiting) take them, the rest are refused.
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) expect(answer).toMatchObject({ retryAfter: '1', message: expect.stringContaining('too many passwords at once') as unknown });
    const metrics = await (await fetch(`${testCloud.cloud.httpUrl}/metrics`)).text();
    expect(metrics).toContain(`loupe_cloud_sign_ins_refused_total{reason="busy"} ${busy.length}`);
    expect((await signIn('admin@loupe.test', TEST_ADMIN_PASSWORD, '127.0.0.40')).status).toBe(200);
  });
});

import { defineProjectTestConfig } from '../../vitest.shared';

// Browser tests need Debian's chromium, so they run apart from `npm test`:
// `npm run test:browser` (CI installs chromium first; see .ci/run). Each
// file starts its own cloud and browser; one at a time leaves a 2-core
// machine room for them.
const shared = defineProjectTestConfig(import.meta.dirname);

export default {
  ...shared,
  test: { ...shared.test, include: ['e2e/**/*.browser-test.ts'], testTimeout: 120_000, fileParallelism: false },
};

import { defineProjectTestConfig } from '../../vitest.shared';

// Browser tests need Debian's chromium, so they run apart from `npm test`:
// `npm run test:browser` (CI installs chromium first; see .ci/run).
const shared = defineProjectTestConfig(import.meta.dirname);

export default {
  ...shared,
  test: { ...shared.test, include: ['e2e/**/*.browser-test.ts'], testTimeout: 120_000 },
};

/**
 * The agent's version, reported in every telemetry message. It is the
 * product version in the root package.json; version.test.ts keeps the two
 * equal (a relative import of package.json would cross the project boundary).
 */
export const AGENT_VERSION = '0.1.0';

import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING_POLICY, InvalidSamplingPolicyError, parseSamplingPolicy } from './sampling-policy';

describe('parseSamplingPolicy', () => {
  it('fills every field with its default', () => {
    expect(parseSamplingPolicy({})).toEqual({
      measure: 'margin',
      minUncertainty: 0.3,
      anomalyBand: 0.25,
      detectionBand: 0.15,
      diversity: 0.3,
      randomShare: 0.01,
      samplesPerHour: 120,
      bytesPerDay: 500_000_000,
      perClassPerHour: 40,
      duplicateDistance: 5,
      duplicateMemory: 64,
    });
    expect(DEFAULT_SAMPLING_POLICY).toEqual(parseSamplingPolicy({}));
  });

  it('keeps the values it is given', () => {
    const policy = parseSamplingPolicy({ measure: 'entropy', minUncertainty: 0, randomShare: 1, samplesPerHour: 0, duplicateDistance: 64 });
    expect(policy).toMatchObject({ measure: 'entropy', minUncertainty: 0, randomShare: 1, samplesPerHour: 0, duplicateDistance: 64 });
  });

  it('drops fields it does not know, so a newer cloud can configure an older device', () => {
    expect(parseSamplingPolicy({ futureKnob: true })).toEqual(DEFAULT_SAMPLING_POLICY);
  });

  it('names every field it refuses', () => {
    const bad = {
      measure: 'variance',
      minUncertainty: 1.5,
      anomalyBand: 0,
      detectionBand: -0.1,
      randomShare: '1%',
      samplesPerHour: 2.5,
      bytesPerDay: -1,
      perClassPerHour: null,
      duplicateDistance: 65,
      duplicateMemory: 0,
    };
    try {
      parseSamplingPolicy(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidSamplingPolicyError);
      const { issues, message } = error as InvalidSamplingPolicyError;
      expect(message).toMatch(/^sampling policy is invalid:\n {2}\w+: /);
      expect(issues).toHaveLength(10);
      const lines = issues.join('\n');
      expect(lines).toMatch(/^measure: must be one of "least_confidence", "margin", "entropy"$/m);
      expect(lines).toMatch(/^minUncertainty: must be a number from 0 to 1 /m);
      expect(lines).toMatch(/^anomalyBand: must be a number greater than 0 /m);
      expect(lines).toMatch(/^detectionBand: must be a number greater than 0 /m);
      expect(lines).toMatch(/^randomShare: must be a number from 0 to 1 /m);
      expect(lines).toMatch(/^samplesPerHour: must be a whole number 0 or more /m);
      expect(lines).toMatch(/^bytesPerDay: must be a whole number 0 or more /m);
      expect(lines).toMatch(/^perClassPerHour: must be a whole number 0 or more /m);
      expect(lines).toMatch(/^duplicateDistance: must be a whole number from 0 to 64 /m);
      expect(lines).toMatch(/^duplicateMemory: must be a whole number 1 or more /m);
    }
  });

  it('refuses a policy that is not an object', () => {
    expect(() => parseSamplingPolicy('margin')).toThrow(InvalidSamplingPolicyError);
  });
});

import { describe, expect, it } from 'vitest';
import { MODEL_NAME_MAX_LENGTH, modelNameSchema } from './model-version';

describe('the model-name rule', () => {
  it.each(['pcb-aoi', 'a', '0', 'resnet50.v2_int8', 'x'.repeat(MODEL_NAME_MAX_LENGTH)])('accepts %s', (name) => {
    expect(modelNameSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    ['an empty name', ''],
    ['a name one over the limit', 'x'.repeat(MODEL_NAME_MAX_LENGTH + 1)],
    ['upper case', 'PCB-aoi'],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-flag'],
    ['a path separator', 'pcb/aoi'],
    ['a parent folder', '..'],
    ['a space', 'pcb aoi'],
  ])('refuses %s', (_why, name) => {
    expect(modelNameSchema.safeParse(name).success).toBe(false);
  });
});

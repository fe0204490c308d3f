import { describe, expect, it } from 'vitest';
import { parseClassList, projectRequestFrom } from './project-request';

describe('the class list of the project form', () => {
  it('splits on commas and lines, keeping the order typed', () => {
    expect(parseClassList('Normal, Defective')).toEqual(['Normal', 'Defective']);
    expect(parseClassList('Normal\nSolder bridge\r\nMissing part')).toEqual(['Normal', 'Solder bridge', 'Missing part']);
    expect(parseClassList('ok,scratch\nvoid')).toEqual(['ok', 'scratch', 'void']);
  });

  it('drops blanks, so a trailing comma or empty line adds no class', () => {
    expect(parseClassList(' ok ,, scratch,\n\n')).toEqual(['ok', 'scratch']);
    expect(parseClassList('  ')).toEqual([]);
  });

  it('leaves repeats for the cloud to refuse, with its own message', () => {
    expect(parseClassList('ok, ok')).toEqual(['ok', 'ok']);
  });
});

describe('the project form as a request', () => {
  const form = (fields: Record<string, string>) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.set(name, value);
    return data;
  };

  it('trims the fields and reads classes and consensus', () => {
    expect(projectRequestFrom(form({ name: ' Solder joints ', modelName: 'pcb-aoi', task: 'classification', classes: 'Normal, Defective', consensus: '2' }))).toEqual({
      name: 'Solder joints',
      modelName: 'pcb-aoi',
      task: 'classification',
      classes: ['Normal', 'Defective'],
      consensus: 2,
    });
  });

  it('asks for one agreeing answer when consensus is left blank', () => {
    expect(projectRequestFrom(form({ name: 'a', modelName: 'm', task: 'anomaly', classes: 'ok', consensus: '' })).consensus).toBe(1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeAgainstStored, placeInGroup } from './sample-identity';

const sample = (id: string, deviceId = 'aoi-1', imageSha256 = 'aa') => ({ id, siteId: 'plant', deviceId, imageSha256 });

describe('sample identity', () => {
  it('calls a repeat from the same device with the same image a duplicate, and anything else under a stored id a conflict', () => {
    const stored = { siteId: 'plant', deviceId: 'aoi-1', imageSha256: 'aa' };
    expect(judgeAgainstStored(sample('x'), undefined)).toEqual({ kind: 'fresh' });
    expect(judgeAgainstStored(sample('x'), stored)).toEqual({ kind: 'duplicate' });
    expect(judgeAgainstStored(sample('x', 'aoi-2'), stored)).toMatchObject({ kind: 'conflict', detail: expect.stringMatching(/already stored for device plant\/aoi-1/) as unknown });
    expect(judgeAgainstStored({ ...sample('x'), siteId: 'other' }, stored)).toMatchObject({ kind: 'conflict' });
    expect(judgeAgainstStored(sample('x', 'aoi-1', 'bb'), stored)).toMatchObject({ kind: 'conflict', detail: expect.stringMatching(/another image/) as unknown });
  });

  it('places every sample of any group once: the first of an id fresh, its agreeing repeats after it, disagreeing ones in conflict', () => {
    const member = fc.record({ id: fc.constantFrom('A', 'a', 'b', 'c'), deviceId: fc.constantFrom('aoi-1', 'aoi-2'), imageSha256: fc.constantFrom('aa', 'bb') });
    fc.assert(
      fc.property(fc.array(member, { maxLength: 20 }), (members) => {
        const group = members.map((each) => ({ ...each, siteId: 'plant' }));
        const places = placeInGroup(group, new Map());
        const firsts = new Map<string, number>();
        places.forEach((place, index) => {
          const id = group[index]!.id.toLowerCase();
          const first = firsts.get(id);
          if (first === undefined) {
            firsts.set(id, index);
            expect(place).toEqual({ kind: 'fresh' });
            return;
          }
          const agrees = group[first]!.deviceId === group[index]!.deviceId && group[first]!.imageSha256 === group[index]!.imageSha256;
          expect(place.kind).toBe(agrees ? 'repeat' : 'conflict');
          if (place.kind === 'repeat') expect(place.of).toBe(first);
        });
      }),
    );
  });
});

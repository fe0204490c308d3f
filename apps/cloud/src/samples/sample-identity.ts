import type { SampleRecord } from './sample-payload';

/** What a stored row says about who sent its sample and which image it holds. */
export interface StoredIdentity {
  siteId: string;
  deviceId: string;
  imageSha256: string;
}

type Identity = Pick<SampleRecord, 'id' | 'siteId' | 'deviceId' | 'imageSha256'>;

/** How a sample relates to what is stored under its id. */
export type IdentityVerdict = { kind: 'fresh' } | { kind: 'duplicate' } | { kind: 'conflict'; detail: string };

/**
 * A sample's identity is its site, device and id. A repeat is a duplicate
 * only when the same device sends the same image again (a redelivery);
 * the same id from another device, or from the same device with another
 * image, is a conflict: acknowledging it would tell the sender that its
 * sample is stored when nothing of it was kept.
 */
export function judgeAgainstStored(sample: Identity, stored: StoredIdentity | undefined): IdentityVerdict {
  if (!stored) return { kind: 'fresh' };
  if (stored.siteId !== sample.siteId || stored.deviceId !== sample.deviceId) {
    return { kind: 'conflict', detail: `sample_id ${sample.id} is already stored for device ${stored.siteId}/${stored.deviceId}: ids must be unique across the fleet` };
  }
  if (stored.imageSha256 !== sample.imageSha256) {
    return {
      kind: 'conflict',
      detail: `sample_id ${sample.id} is already stored with another image (sha256 ${stored.imageSha256.slice(0, 12)}..., this one ${sample.imageSha256.slice(0, 12)}...): give each sample its own id`,
    };
  }
  return { kind: 'duplicate' };
}

/** A sample's place in a group: judged against what is stored, or a repeat of an earlier sample of the group. */
export type GroupPlace = IdentityVerdict | { kind: 'repeat'; of: number };

/**
 * Judges each sample of a group against the rows stored before it (keyed by
 * lower-case id, Postgres's form of a UUID). A later sample with the id of
 * an earlier one in the same group is a `repeat` of it when their identities
 * agree (it shares that sample's outcome), a conflict when they do not.
 */
export function placeInGroup(samples: Identity[], stored: ReadonlyMap<string, StoredIdentity>): GroupPlace[] {
  const firstOfId = new Map<string, number>();
  return samples.map((sample, index) => {
    const id = sample.id.toLowerCase();
    const verdict = judgeAgainstStored(sample, stored.get(id));
    if (verdict.kind !== 'fresh') return verdict;
    const first = firstOfId.get(id);
    if (first === undefined) {
      firstOfId.set(id, index);
      return verdict;
    }
    const earlier = judgeAgainstStored(sample, samples[first]);
    return earlier.kind === 'conflict' ? earlier : { kind: 'repeat', of: first };
  });
}

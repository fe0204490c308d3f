/** A samples row as the audit reads it, with the SHA-256 of the object its image key names (undefined: no object). */
export interface StoredRow {
  id: string;
  imageKey: string;
  imageSha256: string;
  objectSha256: string | undefined;
}

/** What the agent said about its samples, and what the test found in its outbox. */
export interface Ledger {
  /** Samples the agent accepted: durable in its outbox. */
  accepted: ReadonlySet<string>;
  /** Accepted samples the outbox dropped afterwards by its stated policy (outbox full), which are not to be stored. */
  dropped: ReadonlySet<string>;
}

/** Every accepted sample id, counted: what the fault matrix reports. */
export interface DeliveryAudit {
  accepted: number;
  stored: number;
  droppedByPolicy: number;
  /** Accepted, not dropped by policy, and not stored. */
  lost: string[];
  /** Stored more than once, or whose image was written more than once. */
  duplicated: string[];
  /** Stored without having been accepted. */
  unexplained: string[];
  /** Stored with no image, or an image whose SHA-256 is not the row's. */
  damaged: string[];
  /** Whether image writes could be counted (they cannot on an external S3 store). */
  imageWritesCounted: boolean;
}

/**
 * Counts every sample the agent accepted against what the cloud stored:
 * lost = accepted - dropped by policy - stored; duplicated = an id stored
 * twice, or its image key written more than once; plus rows nobody accepted
 * and images that are missing or differ from their row.
 */
export function auditDelivery(ledger: Ledger, rows: readonly StoredRow[], imageWrites: ReadonlyMap<string, number> | undefined): DeliveryAudit {
  const canonical = (id: string) => id.toLowerCase();
  const accepted = new Set([...ledger.accepted].map(canonical));
  const dropped = new Set([...ledger.dropped].map(canonical));
  const timesStored = new Map<string, number>();
  for (const row of rows) timesStored.set(canonical(row.id), (timesStored.get(canonical(row.id)) ?? 0) + 1);
  const rewritten = rows.filter((row) => (imageWrites?.get(row.imageKey) ?? 0) > 1).map((row) => canonical(row.id));
  return {
    accepted: accepted.size,
    stored: timesStored.size,
    droppedByPolicy: [...dropped].filter((id) => accepted.has(id)).length,
    lost: [...accepted].filter((id) => !dropped.has(id) && !timesStored.has(id)).sort(),
    duplicated: [...new Set([...[...timesStored].filter(([, times]) => times > 1).map(([id]) => id), ...rewritten])].sort(),
    unexplained: [...timesStored.keys()].filter((id) => !accepted.has(id) || dropped.has(id)).sort(),
    damaged: rows.filter((row) => row.objectSha256 !== row.imageSha256).map((row) => canonical(row.id)).sort(),
    imageWritesCounted: imageWrites !== undefined,
  };
}

/** One line for the test's output and the fault table in docs/testing.md. */
export function describeAudit(leg: string, audit: DeliveryAudit): string {
  const writes = audit.imageWritesCounted ? 'image writes counted' : 'image writes not counted (external S3 store)';
  const dropped = audit.droppedByPolicy > 0 ? `, dropped by policy ${audit.droppedByPolicy}` : '';
  return (
    `fault matrix | ${leg}: accepted ${audit.accepted}, stored ${audit.stored}${dropped}, lost ${audit.lost.length}, ` +
    `duplicated ${audit.duplicated.length}, unexplained ${audit.unexplained.length}, damaged ${audit.damaged.length}; ${writes}`
  );
}

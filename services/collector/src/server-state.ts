import { z } from 'zod';
import { SnapshotState } from '@calwatch/ingest';
import { IsoInstant } from '@calwatch/model';

/**
 * What the collector remembers per license server: the differ's state of the issued-license
 * table and when the last key-pack snapshot was taken (to refuse older ones). The topic
 * holds it as a head and one entry per license (state-entries.ts); this whole shape is also
 * the record older versions wrote per server, still read at restore.
 */
export const CollectorServerState = z.object({
  schemaVersion: z.literal(1),
  licenseServer: z.string().min(1),
  issued: SnapshotState.nullable(),
  keyPacksTakenAt: IsoInstant.nullable(),
});
export type CollectorServerState = z.infer<typeof CollectorServerState>;

export function emptyServerState(licenseServer: string): CollectorServerState {
  return { schemaVersion: 1, licenseServer, issued: null, keyPacksTakenAt: null };
}

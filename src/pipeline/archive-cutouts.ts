// Cutouts served from the raw archive: each alert's images are stored once, inside the alert's bytes as
// received (raw_alerts.payload), and read back by decoding that alert. There is no second copy to keep.
import type { CutoutStore, StoredCutouts } from '../storage/cutout-store.ts';
import type { RawAlertReader } from '../storage/raw-store.ts';
import type { AlertDecoder } from './decode/alert-decoder.ts';

export function createArchiveCutoutStore(archive: RawAlertReader, decoder: AlertDecoder): CutoutStore {
  return {
    async byAlertIds(ids) {
      const found = new Map<bigint, StoredCutouts>();
      for (const { payload } of await archive.payloadsByAlertIds(ids)) {
        // Archived messages that no longer decode (a schema gone from the registry) have no cutouts to show.
        const alert = await decoder.decode(payload).catch(() => undefined);
        if (alert === undefined) continue;
        const { science, template, difference } = alert.cutouts;
        const empty = (bytes: Buffer | null) => (bytes === null || bytes.length === 0 ? null : bytes);
        found.set(alert.alertId, {
          survey: alert.survey,
          alertId: alert.alertId,
          objectId: alert.objectId,
          science: empty(science),
          template: empty(template),
          difference: empty(difference),
        });
      }
      return found;
    },
  };
}

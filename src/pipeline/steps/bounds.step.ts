// The first stage: what the archive, the tables and the API can hold (src/pipeline/decode/bounds.ts). An alert
// outside the bounds is dead-lettered with the reason; the others go on with their values normalised.
import type { Alert } from '../alert.ts';
import { checkAlertBounds, type IngestLimits } from '../decode/bounds.ts';
import { dlq, ok } from '../framework.ts';
import type { Step } from '../framework.ts';

export function createBoundsStep(limits: IngestLimits): Step<Alert, Alert> {
  return function bounds(alert) {
    const checked = checkAlertBounds(alert, limits);
    return checked.kind === 'ok' ? ok(checked.alert) : dlq(checked.reason, new RangeError(checked.detail));
  };
}

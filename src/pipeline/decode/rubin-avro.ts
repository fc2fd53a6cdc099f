// Placeholder until the Rubin decoder lands: the decoded Rubin (LSST) alert record.
export interface RubinAlert {
  diaSourceId: bigint;
  [field: string]: unknown;
}

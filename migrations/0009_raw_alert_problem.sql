-- Why an archived alert went no further, '' when nothing is wrong. stream2raw archives every message it can
-- decode, and flags those whose values the science tables cannot hold (src/pipeline/decode/bounds.ts: an id
-- outside the positive longs, an unusable objectId, position or time, an oversized history, cutout or string);
-- raw2science dead-letters those with the same reason.
ALTER TABLE raw_alerts ADD COLUMN problem String DEFAULT '';

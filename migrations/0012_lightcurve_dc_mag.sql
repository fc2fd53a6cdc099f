-- The apparent (DC) magnitude of each ZTF detection and its error, as Fink's dc_mag computes them from magpsf,
-- sigmapsf, magnr, sigmagnr and isdiffpos (src/pipeline/decode/ztf-alert.ts). NULL without a reference source,
-- where the reference minus a negative difference is not positive, for upper limits, for Rubin, and for points
-- written before this migration (until a later alert of the object writes them again).
ALTER TABLE lightcurve ADD COLUMN dc_mag Nullable(Float64) DEFAULT NULL;
ALTER TABLE lightcurve ADD COLUMN dc_mag_err Nullable(Float64) DEFAULT NULL;

-- Every score's provenance next to it: the model file in the fink-science wheel, that file's SHA-256 and the
-- fink-science release (src/models/manifest.ts ModelProvenance). '' for the label row (classifier 'fink'), for the
-- heuristic plugins, and for rows written before this migration.
ALTER TABLE classifications ADD COLUMN model_file String DEFAULT '';
ALTER TABLE classifications ADD COLUMN model_sha256 String DEFAULT '';
ALTER TABLE classifications ADD COLUMN fink_science_version String DEFAULT '';

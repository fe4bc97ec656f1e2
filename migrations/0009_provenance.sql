-- saeboard 0009: provenance of every result row.
--
-- Every result table records the job that produced it (NULL when the CLI made it outside the
-- queue), its config and config hash, seed, code version and the hashes of its inputs, next to
-- what it already had (0001–0005). The columns are filled on INSERT, whoever the writer:
--  * job_id: a job's handler writes through a pool whose sessions carry `saeboard.job_id`
--    (src/jobs/queue.ts); the column's default reads it, so no writer can forget it and a row
--    written by the CLI gets NULL;
--  * input_hashes: the trigger snapshots the hashes of the rows it references (LM weights,
--    dataset manifest, SAE weights, activation set config) at write time, merged over what the
--    writer passed (e.g. an imported file's sha256);
--  * seed and config_hash: the writer's, else read from the row's own config by the trigger.
-- config_hash of a row whose config the database derives (datasets, activation sets) is
-- sha256(config::text) of the jsonb (canonical key order), not src/util/hash.ts's configHash.
-- An upsert that keeps a row keeps its provenance: the first producer is recorded.

CREATE FUNCTION saeboard_job_id() RETURNS bigint
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('saeboard.job_id', true), '')::bigint $$;

CREATE FUNCTION saeboard_jsonb_sha256(j jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN j IS NULL THEN NULL ELSE encode(sha256(convert_to(j::text, 'UTF8')), 'hex') END $$;

-- An integer seed from a JSON value, or NULL (seeds are ints; anything else is not a seed).
CREATE FUNCTION saeboard_json_seed(j jsonb) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(j) = 'number' AND (j::text)::numeric = trunc((j::text)::numeric) THEN (j::text)::numeric::bigint END
$$;

ALTER TABLE datasets
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN config jsonb,
  ADD COLUMN config_hash text,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE lm_models
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN seed bigint,
  ADD COLUMN code_version text,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE lm_checkpoints
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN config jsonb,
  ADD COLUMN config_hash text,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE activation_sets
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN config_hash text,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE saes
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE sae_checkpoints
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN config jsonb,
  ADD COLUMN config_hash text,
  ADD COLUMN seed bigint,
  ADD COLUMN code_version text,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE sae_evaluations
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE metric_results
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE probe_results
  ADD COLUMN job_id bigint DEFAULT saeboard_job_id() REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN seed bigint,
  ADD COLUMN input_hashes jsonb NOT NULL DEFAULT '{}'::jsonb;

-- "What did job N produce": one small partial index per table.
CREATE INDEX datasets_job_idx ON datasets (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX lm_models_job_idx ON lm_models (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX lm_checkpoints_job_idx ON lm_checkpoints (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX activation_sets_job_idx ON activation_sets (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX saes_job_idx ON saes (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX sae_checkpoints_job_idx ON sae_checkpoints (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX sae_evaluations_job_idx ON sae_evaluations (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX metric_results_job_idx ON metric_results (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX probe_results_job_idx ON probe_results (job_id) WHERE job_id IS NOT NULL;

CREATE FUNCTION saeboard_provenance() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  derived jsonb := '{}'::jsonb;
  c record;
BEGIN
  CASE TG_TABLE_NAME
  WHEN 'datasets' THEN
    NEW.config := coalesce(NEW.config, NEW.manifest - 'shards' - 'counts' - 'createdAt' - 'codeVersion');
    NEW.config_hash := coalesce(NEW.config_hash, saeboard_jsonb_sha256(NEW.config));
    NEW.seed := coalesce(NEW.seed, saeboard_json_seed(NEW.manifest -> 'seed'));
    derived := jsonb_build_object('sourceFile', NEW.manifest #>> '{source,details,sha256}');
  WHEN 'lm_models' THEN
    NULL;
  WHEN 'lm_checkpoints' THEN
    derived := jsonb_build_object(
      'weights', NEW.weights_sha256,
      'trainDatasetManifest', (SELECT manifest_sha256 FROM datasets WHERE id = NEW.train_dataset_id));
  WHEN 'activation_sets' THEN
    NEW.config_hash := coalesce(NEW.config_hash, saeboard_jsonb_sha256(NEW.manifest));
    derived := jsonb_build_object(
      'lmWeights', (SELECT weights_sha256 FROM lm_checkpoints WHERE id = NEW.lm_checkpoint_id),
      'datasetManifest', (SELECT manifest_sha256 FROM datasets WHERE id = NEW.dataset_id));
  WHEN 'saes' THEN
    NEW.seed := coalesce(NEW.seed, saeboard_json_seed(NEW.hyperparameters -> 'seed'));
    derived := jsonb_build_object(
      'lmWeights', (SELECT weights_sha256 FROM lm_checkpoints WHERE id = NEW.lm_checkpoint_id),
      'datasetManifest', (SELECT manifest_sha256 FROM datasets WHERE id = NEW.dataset_id),
      'activationSet', (SELECT config_hash FROM activation_sets WHERE id = NEW.activation_set_id));
  WHEN 'sae_checkpoints' THEN
    SELECT hyperparameters, config_hash, seed, code_version INTO c FROM saes WHERE id = NEW.sae_id;
    NEW.config := coalesce(NEW.config, c.hyperparameters);
    NEW.config_hash := coalesce(NEW.config_hash, c.config_hash);
    NEW.seed := coalesce(NEW.seed, c.seed);
    NEW.code_version := coalesce(NEW.code_version, c.code_version);
    derived := jsonb_build_object('weights', NEW.weights_sha256);
  WHEN 'sae_evaluations' THEN
    NEW.seed := coalesce(NEW.seed, saeboard_json_seed(NEW.eval_config -> 'seed'));
    derived := jsonb_build_object(
      'saeWeights', (SELECT weights_sha256 FROM sae_checkpoints WHERE id = NEW.sae_checkpoint_id),
      'datasetManifest', (SELECT manifest_sha256 FROM datasets WHERE id = NEW.dataset_id));
  WHEN 'metric_results' THEN
    NEW.seed := coalesce(NEW.seed, saeboard_json_seed(NEW.eval_config -> 'seed'));
    derived := jsonb_build_object('saeWeights', (SELECT weights_sha256 FROM sae_checkpoints WHERE id = NEW.sae_checkpoint_id));
  WHEN 'probe_results' THEN
    NEW.seed := coalesce(NEW.seed, saeboard_json_seed(NEW.config -> 'seed'));
    derived := jsonb_build_object(
      'lmWeights', (SELECT weights_sha256 FROM lm_checkpoints WHERE id = NEW.lm_checkpoint_id),
      'datasetManifest', (SELECT manifest_sha256 FROM datasets WHERE id = NEW.dataset_id));
  END CASE;
  NEW.input_hashes := jsonb_strip_nulls(derived) || coalesce(NEW.input_hashes, '{}'::jsonb);
  RETURN NEW;
END $$;

CREATE TRIGGER datasets_provenance BEFORE INSERT ON datasets FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER lm_models_provenance BEFORE INSERT ON lm_models FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER lm_checkpoints_provenance BEFORE INSERT ON lm_checkpoints FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER activation_sets_provenance BEFORE INSERT ON activation_sets FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER saes_provenance BEFORE INSERT ON saes FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER sae_checkpoints_provenance BEFORE INSERT ON sae_checkpoints FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER sae_evaluations_provenance BEFORE INSERT ON sae_evaluations FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER metric_results_provenance BEFORE INSERT ON metric_results FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();
CREATE TRIGGER probe_results_provenance BEFORE INSERT ON probe_results FOR EACH ROW EXECUTE FUNCTION saeboard_provenance();

-- Rows written before this migration: what can be derived from the row itself.
UPDATE datasets SET config = manifest - 'shards' - 'counts' - 'createdAt' - 'codeVersion';
UPDATE datasets SET config_hash = saeboard_jsonb_sha256(config), seed = saeboard_json_seed(manifest -> 'seed'),
  input_hashes = jsonb_strip_nulls(jsonb_build_object('sourceFile', manifest #>> '{source,details,sha256}'));
UPDATE activation_sets SET config_hash = saeboard_jsonb_sha256(manifest);
UPDATE saes SET seed = saeboard_json_seed(hyperparameters -> 'seed');
UPDATE sae_checkpoints k SET config = s.hyperparameters, config_hash = s.config_hash, seed = s.seed, code_version = s.code_version
  FROM saes s WHERE s.id = k.sae_id;

-- saeboard 0005: what `saeboard eval` stores next to features / feature_alignments / metric_results
-- of 0001: one row per evaluation run, each feature's top activating positions, and the sparse
-- feature activations of every evaluated checkpoint (partitioned by checkpoint).

-- One supervised evaluation of one SAE checkpoint (metrics.md §1 steps 2–6) with one config.
-- Re-running the same config on the same checkpoint replaces the previous run (same hash).
CREATE TABLE sae_evaluations (
  id                bigserial PRIMARY KEY,
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  dataset_id        bigint REFERENCES datasets (id) ON DELETE SET NULL,
  dataset_path      text NOT NULL,
  eval_config       jsonb NOT NULL,
  eval_config_hash  text NOT NULL,
  code_version      text NOT NULL,
  alive_features    integer NOT NULL CHECK (alive_features >= 0),
  train_positions   integer NOT NULL CHECK (train_positions >= 0),
  test_positions    integer NOT NULL CHECK (test_positions >= 0),
  summary           jsonb NOT NULL,          -- headline numbers per family, strategy averages
  timings           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sae_checkpoint_id, eval_config_hash)
);

-- Top-k activating evaluation positions of every feature, with the board to show.
CREATE TABLE feature_examples (
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  feature_index     integer NOT NULL CHECK (feature_index >= 0),
  rank              smallint NOT NULL CHECK (rank >= 0),   -- 0 = highest activation
  split             text NOT NULL CHECK (split IN ('train', 'test')),
  game_index        integer NOT NULL CHECK (game_index >= 0),  -- global game index in the dataset
  position_index    smallint NOT NULL CHECK (position_index >= 0),  -- token index in the game
  activation        real NOT NULL,
  board             text NOT NULL,           -- chess: FEN; Othello: 64 chars a1..h8 row-major, X black, O white, . empty
  PRIMARY KEY (sae_checkpoint_id, feature_index, rank)
);

-- Sparse activations (non-zero only) of each evaluated checkpoint on the evaluation positions,
-- one LIST partition per checkpoint: created and filled in the evaluation's transaction, deleted
-- by dropping it (instant, whatever its size). position_key = game_index * 1024 + position_index
-- (token index < 1024 for both games), so a row needs no lookup table: game = position_key >> 10.
-- No foreign key (it would be checked per row during COPY); the trigger below drops a checkpoint's
-- partition when the checkpoint is deleted.
CREATE TABLE feature_activations (
  sae_checkpoint_id integer NOT NULL,
  position_key      integer NOT NULL,
  feature_index     integer NOT NULL,
  value             real NOT NULL
) PARTITION BY LIST (sae_checkpoint_id);

CREATE FUNCTION feature_activations_partition(ckpt bigint) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'feature_activations_' || ckpt::text $$;

CREATE FUNCTION drop_feature_activations_partition() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS %I', feature_activations_partition(OLD.id));
  RETURN OLD;
END $$;

CREATE TRIGGER sae_checkpoints_drop_activations
  AFTER DELETE ON sae_checkpoints
  FOR EACH ROW EXECUTE FUNCTION drop_feature_activations_partition();

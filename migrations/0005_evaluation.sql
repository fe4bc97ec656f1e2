-- saeboard 0005: what `saeboard eval` stores next to features / metric_results of 0001: one row
-- per evaluation run, each feature's top activating positions, the sparse feature activations of
-- every evaluated checkpoint, and feature_alignments re-made as a table partitioned by checkpoint.

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
-- partitions when the checkpoint is deleted.
CREATE TABLE feature_activations (
  sae_checkpoint_id integer NOT NULL,
  position_key      integer NOT NULL,
  feature_index     integer NOT NULL,
  value             real NOT NULL
) PARTITION BY LIST (sae_checkpoint_id);

CREATE FUNCTION feature_activations_partition(ckpt bigint) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'feature_activations_' || ckpt::text $$;

-- feature_alignments of 0001, same columns, keys and indexes, but LIST-partitioned by checkpoint:
-- an evaluation COPYs its rows into a fresh table without indexes, builds the indexes in bulk and
-- ATTACHes it (the foreign keys are then checked with one join, not a trigger per row). Loading a
-- non-partitioned table kept its three btrees and two foreign keys up to date row by row: ~40k
-- rows/s, against ~1M rows/s for the COPY into a bare partition (docs/eval.md). Replacing or
-- deleting a checkpoint's alignments is a DROP of its partition. (No rows exist yet: only
-- `saeboard eval` writes this table.)
DROP TABLE feature_alignments;
CREATE TABLE feature_alignments (
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  feature_index     integer NOT NULL,
  bsp_id            integer NOT NULL REFERENCES board_properties (id),
  threshold_index   smallint NOT NULL CHECK (threshold_index BETWEEN 0 AND 10),
  threshold         real NOT NULL,
  tp                integer NOT NULL CHECK (tp >= 0),
  fp                integer NOT NULL CHECK (fp >= 0),
  fn                integer NOT NULL CHECK (fn >= 0),
  precision         real NOT NULL,
  recall            real NOT NULL,
  f1                real NOT NULL,
  PRIMARY KEY (sae_checkpoint_id, feature_index, bsp_id, threshold_index)
) PARTITION BY LIST (sae_checkpoint_id);
CREATE INDEX feature_alignments_bsp_idx ON feature_alignments (bsp_id, f1 DESC);
CREATE INDEX feature_alignments_ckpt_f1_idx ON feature_alignments (sae_checkpoint_id, f1 DESC);

CREATE FUNCTION feature_alignments_partition(ckpt bigint) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'feature_alignments_' || ckpt::text $$;

-- Deleting a checkpoint drops its partitions first (instant), instead of cascading row by row.
CREATE FUNCTION drop_checkpoint_partitions() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS %I', feature_activations_partition(OLD.id));
  EXECUTE format('DROP TABLE IF EXISTS %I', feature_alignments_partition(OLD.id));
  RETURN OLD;
END $$;

CREATE TRIGGER sae_checkpoints_drop_partitions
  BEFORE DELETE ON sae_checkpoints
  FOR EACH ROW EXECUTE FUNCTION drop_checkpoint_partitions();

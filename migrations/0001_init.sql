-- saeboard 0001: the first domain schema.
-- Pipeline order: games → datasets → LMs → activation sets → SAEs → checkpoints → evaluation.
-- Every produced artefact records the code version that made it, and configs are stored as JSON
-- together with their canonical hash, so numbers are only ever compared like-for-like.

-- The games the project knows (a small fixed catalogue, referenced by everything else).
CREATE TABLE games (
  id          text PRIMARY KEY CHECK (id IN ('othello', 'chess')),
  vocab_size  integer NOT NULL CHECK (vocab_size > 0),
  tokenizer   text NOT NULL,
  description text NOT NULL
);

INSERT INTO games (id, vocab_size, tokenizer, description) VALUES
  ('othello', 61, 'othello-61', 'Othello: 60 move tokens + padding, synthetic uniformly random legal games'),
  ('chess', 32, 'chess-char-32', 'Chess: PGN move text, one character a token (32-character vocabulary)');

-- Game datasets (a directory of shards + manifest on disk; this row is its registration).
CREATE TABLE datasets (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  game         text NOT NULL REFERENCES games (id),
  source       text NOT NULL,            -- e.g. synthetic-random, stockfish, pgn-import, random-legal
  path         text NOT NULL,
  manifest     jsonb NOT NULL,
  manifest_sha256 text NOT NULL,
  n_games      integer NOT NULL CHECK (n_games >= 0),
  n_positions  bigint NOT NULL CHECK (n_positions >= 0),
  code_version text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX datasets_game_idx ON datasets (game);

-- The BSP catalogue: one row per binary board state property (one cell of a family's tensor).
CREATE TABLE board_properties (
  id          serial PRIMARY KEY,
  game        text NOT NULL REFERENCES games (id),
  family      text NOT NULL,             -- the paper's code function name
  short_name  text NOT NULL,             -- e.g. board_state, check, threatened_squares
  family_group text NOT NULL CHECK (family_group IN ('board_state', 'strategy', 'other')),
  cell_index  integer NOT NULL CHECK (cell_index >= 0),
  row_index   smallint NOT NULL,
  col_index   smallint NOT NULL,
  class_index smallint NOT NULL,
  square      text,                      -- null for global (1×1) properties
  class_name  text NOT NULL,
  name        text NOT NULL,             -- "white knight on f3", "d4 is mine"
  masked      boolean NOT NULL DEFAULT false,
  UNIQUE (game, family, cell_index)
);
CREATE INDEX board_properties_family_idx ON board_properties (game, short_name);
CREATE INDEX board_properties_square_idx ON board_properties (game, square) WHERE square IS NOT NULL;

-- Language models (a model family: architecture + provenance) and their checkpoints.
CREATE TABLE lm_models (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  game         text NOT NULL REFERENCES games (id),
  config       jsonb NOT NULL,           -- typed GPT config (nLayer, nHead, dModel, nCtx, vocabSize, bias, ...)
  config_hash  text NOT NULL,
  origin       text NOT NULL CHECK (origin IN ('trained', 'imported', 'random-init')),
  random_init_of bigint REFERENCES lm_models (id) ON DELETE SET NULL,  -- the trained twin of a baseline
  description  text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lm_models_game_idx ON lm_models (game);

CREATE TABLE lm_checkpoints (
  id           bigserial PRIMARY KEY,
  lm_model_id  bigint NOT NULL REFERENCES lm_models (id) ON DELETE CASCADE,
  step         bigint NOT NULL CHECK (step >= 0),
  tokens_seen  bigint NOT NULL DEFAULT 0,
  path         text NOT NULL,
  weights_sha256 text,
  train_dataset_id bigint REFERENCES datasets (id) ON DELETE SET NULL,
  metrics      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- eval loss, legal-move rate, ...
  code_version text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lm_model_id, step)
);

-- Residual-stream activations collected from an LM checkpoint on a dataset.
CREATE TABLE activation_sets (
  id               bigserial PRIMARY KEY,
  lm_checkpoint_id bigint NOT NULL REFERENCES lm_checkpoints (id) ON DELETE CASCADE,
  dataset_id       bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  layer            smallint NOT NULL CHECK (layer >= 0),
  site             text NOT NULL CHECK (site IN ('resid_pre', 'resid_post', 'mlp_out')),
  positions        text NOT NULL,          -- all | dots | ...
  dtype            text NOT NULL CHECK (dtype IN ('float32', 'float16')),
  n_vectors        bigint NOT NULL CHECK (n_vectors >= 0),
  d_model          integer NOT NULL CHECK (d_model > 0),
  path             text NOT NULL,
  manifest         jsonb NOT NULL,
  code_version     text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activation_sets_lookup_idx ON activation_sets (lm_checkpoint_id, layer, site);

-- SAEs: one row per trained (or imported) dictionary; its hyperparameters are the shared trainer
-- config schema, hashed, so a sweep can recognise SAEs it has already trained.
CREATE TABLE saes (
  id               bigserial PRIMARY KEY,
  name             text NOT NULL,
  lm_checkpoint_id bigint NOT NULL REFERENCES lm_checkpoints (id) ON DELETE CASCADE,
  layer            smallint NOT NULL CHECK (layer >= 0),
  site             text NOT NULL CHECK (site IN ('resid_pre', 'resid_post', 'mlp_out')),
  dataset_id       bigint REFERENCES datasets (id) ON DELETE SET NULL,
  activation_set_id bigint REFERENCES activation_sets (id) ON DELETE SET NULL,
  trainer          text NOT NULL,          -- standard, gated, p_anneal, gated_anneal, top_k, batch_top_k, ...
  dictionary       text NOT NULL,          -- relu, gated, top_k, batch_top_k, jump_relu
  d_in             integer NOT NULL CHECK (d_in > 0),
  d_sae            integer NOT NULL CHECK (d_sae > 0),
  hyperparameters  jsonb NOT NULL,
  config_hash      text NOT NULL,
  sweep            text,                   -- sweep name, groups SAEs trained on one activation stream
  path             text,
  status           text NOT NULL DEFAULT 'training' CHECK (status IN ('training', 'finished', 'failed', 'imported')),
  code_version     text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lm_checkpoint_id, layer, site, config_hash)
);
CREATE INDEX saes_trainer_idx ON saes (trainer);
CREATE INDEX saes_sweep_idx ON saes (sweep) WHERE sweep IS NOT NULL;

CREATE TABLE sae_checkpoints (
  id           bigserial PRIMARY KEY,
  sae_id       bigint NOT NULL REFERENCES saes (id) ON DELETE CASCADE,
  step         bigint NOT NULL CHECK (step >= 0),
  tokens_seen  bigint NOT NULL DEFAULT 0,
  is_final     boolean NOT NULL DEFAULT false,
  path         text NOT NULL,
  weights_sha256 text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sae_id, step)
);
CREATE UNIQUE INDEX sae_checkpoints_one_final_idx ON sae_checkpoints (sae_id) WHERE is_final;

-- Per-feature statistics of one SAE checkpoint (from an evaluation).
CREATE TABLE features (
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  feature_index     integer NOT NULL CHECK (feature_index >= 0),
  alive             boolean NOT NULL,
  max_activation    real NOT NULL,
  density           real NOT NULL,         -- firing rate over the sample
  best_bsp_id       integer REFERENCES board_properties (id),
  best_f1           real,
  best_threshold    real,
  histogram         real[],                -- small activation histogram for the dashboard
  PRIMARY KEY (sae_checkpoint_id, feature_index)
);
CREATE INDEX features_best_f1_idx ON features (sae_checkpoint_id, best_f1 DESC NULLS LAST);
CREATE INDEX features_best_bsp_idx ON features (best_bsp_id, best_f1 DESC NULLS LAST) WHERE best_bsp_id IS NOT NULL;

-- Feature × BSP × threshold alignment statistics (kept sparse: above a floor, plus the bests).
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
);
-- "best features for this board property" and "best alignments within this SAE".
CREATE INDEX feature_alignments_bsp_idx ON feature_alignments (bsp_id, f1 DESC);
CREATE INDEX feature_alignments_ckpt_f1_idx ON feature_alignments (sae_checkpoint_id, f1 DESC);

-- Scalar metric results per SAE checkpoint, keyed by the evaluation config's hash.
CREATE TABLE metric_results (
  id                bigserial PRIMARY KEY,
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  metric            text NOT NULL,          -- l0, frac_variance_explained, frac_recovered, coverage, reconstruction, ...
  family            text NOT NULL DEFAULT '',  -- BSP family or '' for unsupervised metrics
  value             double precision NOT NULL,
  details           jsonb NOT NULL DEFAULT '{}'::jsonb,  -- e.g. best threshold, per-threshold curve
  eval_config       jsonb NOT NULL,
  eval_config_hash  text NOT NULL,
  code_version      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sae_checkpoint_id, metric, family, eval_config_hash)
);
-- Leaderboards: best SAEs by one metric.
CREATE INDEX metric_results_leaderboard_idx ON metric_results (metric, family, value DESC);

-- Long-running work (training, evaluation, imports), as seen by the API.
CREATE TABLE jobs (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL,
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
  progress     real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  message      text,
  result       jsonb,
  error        text,
  attempts     integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX jobs_status_idx ON jobs (status, created_at);

-- saeboard 0010: analyses on top of stored evaluations (docs/analyses.md), written by the ANALYZE
-- job in one transaction per SAE checkpoint / comparison / SAE: feature tracking across
-- checkpoints, feature histories, absorption and splitting per BSP, explanations per feature.
-- Absorption and splitting per SAE (and per family) also go to metric_results, keyed by the
-- evaluation's eval_config_hash, so the leaderboard ranks by them (lower is better for both).

-- One analysis of one evaluated checkpoint: what it was computed from and its headline numbers.
CREATE TABLE sae_analyses (
  id                bigserial PRIMARY KEY,
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  eval_config_hash  text NOT NULL,           -- the evaluation it reads (sae_evaluations)
  config            jsonb NOT NULL,          -- analysis options
  config_hash       text NOT NULL,
  alive_features    integer NOT NULL,
  explained_features integer NOT NULL,
  explained_share_50 real NOT NULL,          -- share of alive features explained at held-out F1 ≥ 0.5
  explained_share_80 real NOT NULL,          -- … at F1 ≥ 0.8
  absorption        real,                    -- mean absorption rate over BSPs with a strong feature
  splitting         real,                    -- mean features needed to reach F1 ≥ 0.9 (BSPs that reach it)
  summary           jsonb NOT NULL,
  timings           jsonb NOT NULL DEFAULT '{}'::jsonb,
  code_version      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sae_checkpoint_id)                 -- re-analysing replaces
);

-- Per BSP: its best feature, main features, absorption and the greedy split.
CREATE TABLE bsp_absorption (
  sae_checkpoint_id  bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  bsp_id             integer NOT NULL REFERENCES board_properties (id),
  positives          integer NOT NULL,
  best_feature       integer,
  best_f1            real NOT NULL,
  main_features      integer[] NOT NULL,
  missed             integer NOT NULL,       -- positions with the BSP and every main feature off
  absorbed           integer NOT NULL,
  absorption         real,                   -- absorbed / missed; null = no strong feature
  mean_absorbing_share real NOT NULL,
  top_absorber       integer,
  top_absorber_count integer NOT NULL,
  split_features     integer[] NOT NULL,     -- greedy OR, in order
  split_f1s          real[] NOT NULL,
  splitting          smallint,               -- features needed for F1 ≥ 0.9; null = not within the cap
  PRIMARY KEY (sae_checkpoint_id, bsp_id)
);
CREATE INDEX bsp_absorption_bsp_idx ON bsp_absorption (bsp_id, absorption DESC NULLS LAST);

-- Explanations: per alive feature up to three (best single BSP, AND, OR), rank 0 = the explanation.
CREATE TABLE feature_explanations (
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  feature_index     integer NOT NULL,
  rank              smallint NOT NULL CHECK (rank >= 0),
  kind              text NOT NULL CHECK (kind IN ('single', 'and', 'or')),
  bsp_a             integer NOT NULL REFERENCES board_properties (id),
  bsp_b             integer REFERENCES board_properties (id),
  text              text NOT NULL,           -- "white knight on f3 AND black to move"
  threshold_index   smallint NOT NULL CHECK (threshold_index BETWEEN 0 AND 10),
  fit_precision     real NOT NULL,           -- on D_train, where it was chosen
  fit_recall        real NOT NULL,
  fit_f1            real NOT NULL,
  precision         real NOT NULL,           -- held out (D_test)
  recall            real NOT NULL,
  f1                real NOT NULL,
  tp                integer NOT NULL,
  on_count          integer NOT NULL,
  truth_count       integer NOT NULL,
  PRIMARY KEY (sae_checkpoint_id, feature_index, rank),
  CHECK ((kind = 'single') = (bsp_b IS NULL))
);
CREATE INDEX feature_explanations_f1_idx ON feature_explanations (sae_checkpoint_id, f1 DESC) WHERE rank = 0;

-- Feature tracking: one comparison of two checkpoints, and its links (matches, splits, merges,
-- deaths, births), in link_index order (kind, then cosine, best first).
CREATE TABLE checkpoint_comparisons (
  id           bigserial PRIMARY KEY,
  checkpoint_a bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  checkpoint_b bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  config       jsonb NOT NULL,
  config_hash  text NOT NULL,
  summary      jsonb NOT NULL,               -- matched, mean cosine, splits, merges, deaths, births
  timings      jsonb NOT NULL DEFAULT '{}'::jsonb,
  code_version text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (checkpoint_a, checkpoint_b)        -- re-comparing replaces
);
CREATE INDEX checkpoint_comparisons_b_idx ON checkpoint_comparisons (checkpoint_b);

CREATE TABLE feature_links (
  comparison_id bigint NOT NULL REFERENCES checkpoint_comparisons (id) ON DELETE CASCADE,
  link_index    integer NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('match', 'split', 'merge', 'death', 'birth')),
  feature_a     integer,
  feature_b     integer,
  cosine        real,
  matched       boolean NOT NULL,
  f1_a          real,
  f1_b          real,
  bsp_a         integer,
  bsp_b         integer,
  PRIMARY KEY (comparison_id, link_index),
  CHECK (feature_a IS NOT NULL OR feature_b IS NOT NULL)
);
CREATE INDEX feature_links_kind_idx ON feature_links (comparison_id, kind, link_index);

-- Feature history of an SAE over its checkpoints: F1 with the final best BSP at each step.
CREATE TABLE feature_histories (
  sae_id        bigint NOT NULL REFERENCES saes (id) ON DELETE CASCADE,
  feature_index integer NOT NULL,
  bsp_id        integer NOT NULL REFERENCES board_properties (id),
  level         real NOT NULL,
  steps         bigint[] NOT NULL,
  checkpoint_ids bigint[] NOT NULL,
  f1            real[] NOT NULL,
  first_step    bigint,                      -- first step with F1 ≥ level (null: never)
  stable_step   bigint,                      -- from here on F1 stays ≥ level
  final_f1      real NOT NULL,
  PRIMARY KEY (sae_id, feature_index)
);
CREATE INDEX feature_histories_bsp_idx ON feature_histories (bsp_id, first_step);
CREATE INDEX feature_histories_sae_first_idx ON feature_histories (sae_id, first_step);

-- saeboard 0006: what the GraphQL API reads fast.
--
-- 1. feature_bsp_best: per evaluated checkpoint and board property, the best features (up to 8)
--    at their best threshold. "Which features track white knight on f3, best first, across every
--    SAE" is one index range scan here, where feature_alignments (LIST-partitioned by checkpoint)
--    would merge one index scan per partition — thousands for a large database. Written by the
--    evaluation in its transaction (src/db/repos/eval.ts), from the checkpoint's fresh partition.
CREATE TABLE feature_bsp_best (
  sae_checkpoint_id bigint NOT NULL REFERENCES sae_checkpoints (id) ON DELETE CASCADE,
  bsp_id            integer NOT NULL REFERENCES board_properties (id),
  feature_index     integer NOT NULL,
  rank              smallint NOT NULL CHECK (rank >= 0),   -- 0 = best feature of this checkpoint for this BSP
  threshold_index   smallint NOT NULL,
  threshold         real NOT NULL,
  tp                integer NOT NULL,
  fp                integer NOT NULL,
  fn                integer NOT NULL,
  precision         real NOT NULL,
  recall            real NOT NULL,
  f1                real NOT NULL,
  PRIMARY KEY (sae_checkpoint_id, bsp_id, rank)
);
-- Keyset order of the features(filter: { boardProperty }) query: f1 DESC, then the row key.
CREATE INDEX feature_bsp_best_bsp_f1_idx ON feature_bsp_best (bsp_id, f1 DESC, sae_checkpoint_id, feature_index);
CREATE INDEX feature_bsp_best_bsp_precision_idx ON feature_bsp_best (bsp_id, precision DESC, sae_checkpoint_id, feature_index);
CREATE INDEX feature_bsp_best_bsp_recall_idx ON feature_bsp_best (bsp_id, recall DESC, sae_checkpoint_id, feature_index);

-- 2. Keyset orders of features within a checkpoint.
CREATE INDEX features_max_activation_idx ON features (sae_checkpoint_id, max_activation DESC, feature_index);
CREATE INDEX features_density_idx ON features (sae_checkpoint_id, density DESC, feature_index);

-- 3. SAE filters.
CREATE INDEX saes_lm_layer_idx ON saes (lm_checkpoint_id, layer, site);
CREATE INDEX saes_layer_idx ON saes (layer);
CREATE INDEX metric_results_ckpt_idx ON metric_results (sae_checkpoint_id, metric, family);
CREATE INDEX board_properties_name_idx ON board_properties (game, lower(name));
CREATE INDEX lm_checkpoints_model_idx ON lm_checkpoints (lm_model_id, step);

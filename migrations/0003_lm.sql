-- saeboard 0003: language-model side of the database (docs/lm.md).
--
-- 1. Linear-probe results: one row per (LM checkpoint, layer, site, BSP family, probe config).
--    They are the ceiling an SAE feature could reach on a family (models.md §5), so they live next
--    to the checkpoint, not in metric_results (which belongs to SAE checkpoints).
-- 2. activation_sets may hold every hook site the GPT exposes (src/lm/model.ts), not only the
--    three of 0001: attention output, mid-block residual and the MLP's post-GELU hidden layer
--    (the MLP-neuron baselines of metrics.md §8 read mlp_post).

CREATE TABLE probe_results (
  id                bigserial PRIMARY KEY,
  lm_checkpoint_id  bigint NOT NULL REFERENCES lm_checkpoints (id) ON DELETE CASCADE,
  dataset_id        bigint REFERENCES datasets (id) ON DELETE SET NULL,
  dataset_path      text NOT NULL,
  layer             smallint NOT NULL CHECK (layer >= 0),
  site              text NOT NULL,
  family            text NOT NULL,                 -- BSP family short name (bsp_families.short_name)
  kind              text NOT NULL CHECK (kind IN ('softmax', 'sigmoid')),
  accuracy          double precision NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
  f1                double precision,              -- sigmoid probes: micro-F1 of the positive class
  train_accuracy    double precision NOT NULL,
  baseline_accuracy double precision NOT NULL,     -- majority class per cell
  n_train           integer NOT NULL CHECK (n_train > 0),
  n_test            integer NOT NULL CHECK (n_test > 0),
  config            jsonb NOT NULL,                -- epochs, lr, position caps, ...
  config_hash       text NOT NULL,
  code_version      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lm_checkpoint_id, layer, site, family, dataset_path, config_hash)
);
CREATE INDEX probe_results_family_idx ON probe_results (family, accuracy DESC);

ALTER TABLE activation_sets DROP CONSTRAINT activation_sets_site_check;
ALTER TABLE activation_sets ADD CONSTRAINT activation_sets_site_check
  CHECK (site IN ('resid_pre', 'attn_out', 'resid_mid', 'mlp_post', 'mlp_out', 'resid_post'));

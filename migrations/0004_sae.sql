-- saeboard 0004: SAE training side (docs/sae.md).
--
-- 1. SAEs may read every hook site the GPT exposes, as activation sets may since 0003.
-- 2. Checkpoints are looked up by directory (evaluating an SAE directory finds the row the
--    training registration made; re-registering a sweep updates rather than duplicates).
-- 3. saes.config_hash of a trained SAE is its identity hash (trainer config + activation stream,
--    src/compute/sae/storage.ts identityHash); the trainer config's own hash is kept next to it so
--    "the same hyperparameters" can be found across LMs and datasets.
ALTER TABLE saes DROP CONSTRAINT saes_site_check;
ALTER TABLE saes ADD CONSTRAINT saes_site_check
  CHECK (site IN ('resid_pre', 'attn_out', 'resid_mid', 'mlp_post', 'mlp_out', 'resid_post'));

CREATE INDEX sae_checkpoints_path_idx ON sae_checkpoints (path);

ALTER TABLE saes ADD COLUMN trainer_config_hash text;
CREATE INDEX saes_trainer_config_idx ON saes (trainer_config_hash) WHERE trainer_config_hash IS NOT NULL;

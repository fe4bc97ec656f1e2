-- saeboard 0013: two summaries the API reads instead of recomputing them on every request.
--
-- At 1,000 evaluated SAEs (bench/api-scale) Postgres spent ~16 ms of CPU on every
-- `boardProperties(orderBy: BEST_F1)` page (one feature_bsp_best probe for each of the game's
-- 7,808 properties, to sort them), ~9 ms on every `saes` page ordered by a metric and ~5 ms on
-- every leaderboard (a final-checkpoint probe and a metric probe per SAE): the mix's CPU, not its
-- feature pages. Both summaries are kept by triggers in the writing transaction, so they are never
-- staler than what a reader could see.
--
-- Recomputing (not `greatest`) serves every write alike — new evaluations, re-evaluations that
-- replace rows, checkpoints that stop being final, deletes. Each recompute first takes one
-- transaction-scoped advisory lock (the same for every summary write, so writers cannot deadlock on
-- each other's rows in different orders), then recomputes in a new statement, whose snapshot (READ
-- COMMITTED) sees every writer that held the lock before: two evaluations racing on the same
-- property cannot leave a stale best. Summary writers therefore queue from their first summary
-- write to their commit. An evaluation's first is normally its last statements (it writes its
-- best features and metrics last: src/db/repos/eval.ts); re-evaluating a checkpoint, or
-- registering a new checkpoint of an SAE that already has metrics, takes the lock earlier.

-- 1. Best F1 of any feature of a final SAE checkpoint, per board property (null: none aligned).
ALTER TABLE board_properties ADD COLUMN best_f1 real;
CREATE INDEX board_properties_best_f1_idx ON board_properties ((coalesce(best_f1, 0)) DESC, id);
CREATE INDEX board_properties_game_best_f1_idx ON board_properties (game, (coalesce(best_f1, 0)) DESC, id);

CREATE FUNCTION saeboard_refresh_bsp_best(bsp_ids int[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(bsp_ids, 1), 0) = 0 THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(5908390109);  -- 'saeboard summaries'
  -- Only rows whose best changes: a new evaluation rarely beats every earlier one, and each
  -- update of this indexed column leaves a dead row version behind (1,000 evaluations of 256
  -- properties each would bloat a 7,808-row table by 256,000 of them).
  UPDATE board_properties bp SET best_f1 = x.f1
  FROM (SELECT p.id, (SELECT b.f1 FROM feature_bsp_best b JOIN sae_checkpoints c ON c.id = b.sae_checkpoint_id AND c.is_final
                      WHERE b.bsp_id = p.id AND b.rank = 0 ORDER BY b.f1 DESC LIMIT 1) AS f1
        FROM board_properties p WHERE p.id = ANY(bsp_ids)) x
  WHERE bp.id = x.id AND bp.best_f1 IS DISTINCT FROM x.f1;
END $$;

CREATE FUNCTION saeboard_bsp_best_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- Added rows can only raise a best: compare with the stored one instead of walking each
    -- property's index again (252 random index and heap reads per Othello evaluation, ~0.2 s at
    -- 1,000 SAEs). After the lock, so the stored bests are those of every earlier writer.
    PERFORM pg_advisory_xact_lock(5908390109);
    UPDATE board_properties bp SET best_f1 = n.f1
    FROM (SELECT r.bsp_id, max(r.f1) AS f1 FROM new_rows r JOIN sae_checkpoints c ON c.id = r.sae_checkpoint_id AND c.is_final
          WHERE r.rank = 0 GROUP BY r.bsp_id) n
    WHERE bp.id = n.bsp_id AND (bp.best_f1 IS NULL OR bp.best_f1 < n.f1);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM saeboard_refresh_bsp_best(ARRAY(SELECT DISTINCT bsp_id FROM old_rows WHERE rank = 0));
  ELSE
    PERFORM saeboard_refresh_bsp_best(ARRAY(SELECT bsp_id FROM old_rows UNION SELECT bsp_id FROM new_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER feature_bsp_best_insert_summary AFTER INSERT ON feature_bsp_best
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_bsp_best_rows_changed();
CREATE TRIGGER feature_bsp_best_delete_summary AFTER DELETE ON feature_bsp_best
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_bsp_best_rows_changed();
CREATE TRIGGER feature_bsp_best_update_summary AFTER UPDATE ON feature_bsp_best
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_bsp_best_rows_changed();

CREATE FUNCTION saeboard_bsp_best_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE board_properties SET best_f1 = NULL WHERE best_f1 IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER feature_bsp_best_truncate_summary AFTER TRUNCATE ON feature_bsp_best
  FOR EACH STATEMENT EXECUTE FUNCTION saeboard_bsp_best_truncated();

-- 2. Per SAE and (metric, family): the newest metric row of its current checkpoint (the final
--    one, else the newest step), as `saes(orderBy: { metric })` and the metric bounds read it;
--    `is_final` marks the rows the leaderboard ranks (it reads final checkpoints only).
CREATE TABLE sae_current_metrics (
  sae_id            bigint NOT NULL REFERENCES saes (id) ON DELETE CASCADE,
  metric            text NOT NULL,
  family            text NOT NULL,
  sae_checkpoint_id bigint NOT NULL,
  is_final          boolean NOT NULL,
  value             double precision NOT NULL,
  eval_config_hash  text NOT NULL,
  PRIMARY KEY (sae_id, metric, family)
);
CREATE INDEX sae_current_metrics_desc_idx ON sae_current_metrics (metric, family, value DESC, sae_id);
CREATE INDEX sae_current_metrics_asc_idx ON sae_current_metrics (metric, family, value, sae_id);

CREATE FUNCTION saeboard_refresh_sae_metrics(sae_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(sae_ids, 1), 0) = 0 THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(5908390109);
  DELETE FROM sae_current_metrics WHERE sae_id = ANY(sae_ids);
  INSERT INTO sae_current_metrics (sae_id, metric, family, sae_checkpoint_id, is_final, value, eval_config_hash)
  SELECT DISTINCT ON (c.sae_id, m.metric, m.family) c.sae_id, m.metric, m.family, c.id, c.is_final, m.value, m.eval_config_hash
  FROM saes s
  CROSS JOIN LATERAL (SELECT id, sae_id, is_final FROM sae_checkpoints WHERE sae_id = s.id ORDER BY is_final DESC, step DESC LIMIT 1) c
  JOIN metric_results m ON m.sae_checkpoint_id = c.id
  WHERE s.id = ANY(sae_ids)
  ORDER BY c.sae_id, m.metric, m.family, m.created_at DESC, m.id DESC;
END $$;

CREATE FUNCTION saeboard_metric_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM saeboard_refresh_sae_metrics(ARRAY(SELECT DISTINCT c.sae_id FROM new_rows r JOIN sae_checkpoints c ON c.id = r.sae_checkpoint_id));
  ELSIF TG_OP = 'DELETE' THEN
    -- A cascade from a deleted checkpoint or SAE finds no checkpoint row: the checkpoint trigger
    -- (or the SAE's own cascade) has it.
    PERFORM saeboard_refresh_sae_metrics(ARRAY(SELECT DISTINCT c.sae_id FROM old_rows r JOIN sae_checkpoints c ON c.id = r.sae_checkpoint_id));
  ELSE
    PERFORM saeboard_refresh_sae_metrics(ARRAY(
      SELECT c.sae_id FROM old_rows r JOIN sae_checkpoints c ON c.id = r.sae_checkpoint_id
      UNION SELECT c.sae_id FROM new_rows r JOIN sae_checkpoints c ON c.id = r.sae_checkpoint_id));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER metric_results_insert_summary AFTER INSERT ON metric_results
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_metric_rows_changed();
CREATE TRIGGER metric_results_delete_summary AFTER DELETE ON metric_results
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_metric_rows_changed();
CREATE TRIGGER metric_results_update_summary AFTER UPDATE ON metric_results
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_metric_rows_changed();

-- A checkpoint added, made (non-)final or deleted changes which checkpoint is current, and which
-- checkpoints' best features count.
CREATE FUNCTION saeboard_checkpoints_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ckpts bigint[];
  saes_touched bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- A new checkpoint has no metric rows yet, so it can only change an SAE that has summary rows
    -- now (registering the checkpoints of a fresh sweep takes no lock).
    SELECT array_agg(id), array_agg(DISTINCT sae_id) FILTER (WHERE EXISTS (SELECT 1 FROM sae_current_metrics m WHERE m.sae_id = n.sae_id))
    INTO ckpts, saes_touched FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(id), array_agg(DISTINCT sae_id) INTO ckpts, saes_touched FROM old_rows;
  ELSE
    SELECT array_agg(o.id), array_agg(DISTINCT o.sae_id) || array_agg(DISTINCT n.sae_id) INTO ckpts, saes_touched
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.is_final IS DISTINCT FROM n.is_final OR o.step IS DISTINCT FROM n.step OR o.sae_id IS DISTINCT FROM n.sae_id;
  END IF;
  PERFORM saeboard_refresh_sae_metrics(ARRAY(SELECT s.id FROM saes s WHERE s.id = ANY(saes_touched)));  -- (a deleted SAE's rows go by cascade)
  IF TG_OP <> 'INSERT' THEN
    -- (a deleted checkpoint's feature_bsp_best rows go by cascade, whose trigger refreshes them)
    PERFORM saeboard_refresh_bsp_best(ARRAY(SELECT DISTINCT bsp_id FROM feature_bsp_best WHERE sae_checkpoint_id = ANY(ckpts) AND rank = 0));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER sae_checkpoints_insert_summary AFTER INSERT ON sae_checkpoints
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_checkpoints_changed();
CREATE TRIGGER sae_checkpoints_delete_summary AFTER DELETE ON sae_checkpoints
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_checkpoints_changed();
CREATE TRIGGER sae_checkpoints_update_summary AFTER UPDATE ON sae_checkpoints
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION saeboard_checkpoints_changed();

-- What is already there.
SELECT saeboard_refresh_bsp_best(ARRAY(SELECT id FROM board_properties));
SELECT saeboard_refresh_sae_metrics(ARRAY(SELECT id FROM saes));

SELECT saeboard_watch_results();

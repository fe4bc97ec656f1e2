-- Results changed: every committed write to a result table NOTIFYs channel `saeboard_results`
-- with the table's name, so the API's response cache (src/api/responseCache.ts) knows when an
-- answer it holds may be stale. Statement-level triggers: one notification per statement, not
-- per row (an evaluation COPYs millions of rows), and Postgres folds identical notifications of
-- one transaction into one, delivered at commit — never for a transaction that rolled back.
--
-- Every table of this schema gets one except those that are not results: jobs (progress
-- changes many times a second; the Job type is never cached), api_keys, and the bookkeeping
-- tables. Feature alignment partitions are filled before they are attached; the evaluation that
-- attaches them writes sae_evaluations and features in the same transaction, which notifies.
-- A later migration that creates a result table calls saeboard_watch_results() again (a test
-- checks that every table has its trigger).

CREATE FUNCTION saeboard_results_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('saeboard_results', TG_TABLE_NAME);
  RETURN NULL;
END $$;

-- Adds the trigger to every table of the current schema that lacks one (idempotent).
CREATE FUNCTION saeboard_watch_results() RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND c.relname NOT IN ('jobs', 'api_keys', 'saeboard_migrations', 'saeboard_settings')
      AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = c.relname || '_results_changed')
  LOOP
    EXECUTE format(
      'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION saeboard_results_changed()',
      t || '_results_changed', t);
  END LOOP;
END $$;

SELECT saeboard_watch_results();

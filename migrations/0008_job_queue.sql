-- saeboard 0008: the job queue's own records (pg-boss, in schema pgboss, does the queueing).
--
-- A `jobs` row is what users see and what results point back to: kind, validated config and its
-- hash, status, stage, progress, a log tail, the result. A pipeline is a set of rows submitted
-- together; a row waits until every row in depends_on has succeeded, then it is handed to pg-boss.
-- Every change NOTIFYs channel saeboard_jobs with the row id (GraphQL subscriptions listen there).
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
  CHECK (status IN ('waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE jobs
  ADD COLUMN config_hash  text,
  ADD COLUMN pipeline     text,
  ADD COLUMN stage        text,
  ADD COLUMN depends_on   bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN boss_id      text,
  ADD COLUMN log          text[] NOT NULL DEFAULT '{}',
  ADD COLUMN throughput   real,
  ADD COLUMN eta_seconds  real,
  ADD COLUMN worker       text,
  ADD COLUMN code_version text,
  ADD COLUMN updated_at   timestamptz NOT NULL DEFAULT now();
CREATE INDEX jobs_pipeline_idx ON jobs (pipeline) WHERE pipeline IS NOT NULL;
CREATE INDEX jobs_config_idx ON jobs (kind, config_hash);
CREATE INDEX jobs_waiting_idx ON jobs USING gin (depends_on) WHERE status = 'waiting';

CREATE FUNCTION jobs_notify() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('saeboard_jobs', NEW.id::text);
  RETURN NEW;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();

-- Small facts about this database, e.g. that the first-start seed was submitted.
CREATE TABLE saeboard_settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

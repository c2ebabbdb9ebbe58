-- A fleet of workers on one database: when each runner took its lease (for
-- `lekhika workers`), the requests each call took, the schema version readable by the app role (checked
-- when a store connects), an operator's view of the live runners, and rate
-- limits shared by every worker.

ALTER TABLE engine_executions ADD COLUMN lease_taken_at_ms bigint;

-- The HTTP requests each journaled call took (retries, fallbacks), so
-- reports count what the providers saw; what determines each reply (its
-- content key), so `--reuse` serves a user's later identical calls; and
-- for a reply served that way, the execution that paid for it.
ALTER TABLE calls ADD COLUMN requests integer NOT NULL DEFAULT 1;
ALTER TABLE calls ADD COLUMN content_key text COLLATE "C";
ALTER TABLE calls ADD COLUMN reused_from text;
CREATE INDEX calls_reuse ON calls (user_id, content_key) WHERE content_key IS NOT NULL;
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('grant', 'reserve', 'settle', 'release', 'reuse'));

-- A store connecting as the app role checks it is neither behind nor ahead.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
GRANT SELECT ON schema_migrations TO lekhika_app;

-- Claims now record when the lease was taken.
CREATE OR REPLACE FUNCTION lekhika_claim(p_worker text, p_lease_ms bigint)
    RETURNS TABLE (execution_id text, owner_id text, token bigint, expires_at_ms bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH now_ms AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS v),
    candidate AS (
        SELECT e.id FROM engine_executions e, now_ms
        WHERE e.status = 'pending'
           OR (e.status = 'running' AND e.lease_expires_at_ms IS NOT NULL AND e.lease_expires_at_ms < now_ms.v)
        ORDER BY e.created_at_ms, e.id
        LIMIT 1
        FOR UPDATE OF e SKIP LOCKED
    )
    UPDATE engine_executions e
       SET status = 'running', lease_worker = p_worker, lease_token = nextval('lease_tokens'),
           lease_expires_at_ms = now_ms.v + p_lease_ms, lease_taken_at_ms = now_ms.v,
           updated_at_ms = now_ms.v
      FROM candidate, now_ms
     WHERE e.id = candidate.id
    RETURNING e.id, e.user_id, e.lease_token, e.lease_expires_at_ms
$$;

-- The live runners across tenants, for operators (`lekhika workers`): who
-- holds which execution, since when, until when. Ids only, no content;
-- like claiming, it crosses tenants only through this function.
CREATE FUNCTION lekhika_runners()
    RETURNS TABLE (worker text, execution_id text, token bigint, expires_in_ms bigint, held_for_ms bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH now_ms AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS v)
    SELECT e.lease_worker, e.id, e.lease_token, e.lease_expires_at_ms - now_ms.v,
           now_ms.v - coalesce(e.lease_taken_at_ms, now_ms.v)
      FROM engine_executions e, now_ms
     WHERE e.lease_worker IS NOT NULL AND e.lease_expires_at_ms > now_ms.v
     ORDER BY e.lease_worker, e.id
$$;
ALTER FUNCTION lekhika_runners() OWNER TO lekhika_queue;
REVOKE ALL ON FUNCTION lekhika_runners() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lekhika_runners() TO lekhika_app;

-- Rate limits shared by every worker: token buckets keyed by a hash of
-- (provider, base URL, API key). No user data.
CREATE TABLE rate_buckets (
    key text COLLATE "C" PRIMARY KEY,
    requests double precision,
    requests_at_ms bigint,
    tokens double precision,
    tokens_at_ms bigint
);
GRANT SELECT, INSERT, UPDATE ON rate_buckets TO lekhika_app;

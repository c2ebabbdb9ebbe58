-- Row-level security. The application role `lekhika_app` owns nothing and is
-- not a superuser; every user-owned table has RLS enabled AND forced, with
-- policies keyed on the acting user that the store sets per transaction:
--   SELECT set_config('lekhika.user_id', $1, true)   -- i.e. SET LOCAL
-- With no user set, lekhika_current_user() is NULL and no row is visible.
-- `lekhika.admin = on` (set only by PgStore::as_admin) adds read-only access
-- across tenants for the platform administrator.

CREATE FUNCTION lekhika_current_user() RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('lekhika.user_id', true), '') $$;
CREATE FUNCTION lekhika_is_admin() RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('lekhika.admin', true), '') = 'on' $$;

-- Tables keyed by user_id.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['engine_executions', 'node_results', 'artifacts', 'books', 'ai_providers',
                             'user_token_wallets', 'ledger_entries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I FOR ALL TO lekhika_app
                            USING (user_id = lekhika_current_user())
                            WITH CHECK (user_id = lekhika_current_user())', t);
        EXECUTE format('CREATE POLICY platform_admin_read ON %I FOR SELECT TO lekhika_app
                            USING (lekhika_is_admin())', t);
    END LOOP;
END $$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users FOR ALL TO lekhika_app
    USING (id = lekhika_current_user()) WITH CHECK (id = lekhika_current_user());
CREATE POLICY platform_admin_read ON users FOR SELECT TO lekhika_app USING (lekhika_is_admin());

-- Engines and flows: own rows plus master templates (readable by all,
-- writable by no ordinary user: only the owner/admin connection writes them).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ai_engines', 'ai_flows']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY read_own_or_master ON %I FOR SELECT TO lekhika_app
                            USING (is_master OR user_id = lekhika_current_user() OR lekhika_is_admin())', t);
        EXECUTE format('CREATE POLICY insert_own ON %I FOR INSERT TO lekhika_app
                            WITH CHECK (NOT is_master AND user_id = lekhika_current_user())', t);
        EXECUTE format('CREATE POLICY update_own ON %I FOR UPDATE TO lekhika_app
                            USING (NOT is_master AND user_id = lekhika_current_user())
                            WITH CHECK (NOT is_master AND user_id = lekhika_current_user())', t);
        EXECUTE format('CREATE POLICY delete_own ON %I FOR DELETE TO lekhika_app
                            USING (NOT is_master AND user_id = lekhika_current_user())', t);
    END LOOP;
END $$;

-- The queue. Claiming must see every tenant's queued executions, so it is a
-- SECURITY DEFINER function owned by the NOLOGIN role `lekhika_queue`, the
-- only role with a cross-tenant policy. The app role may call the function
-- but is not a member of `lekhika_queue`, so it cannot use that policy directly.
-- The function reveals only what the worker needs: id, owner, token, expiry.
GRANT SELECT, UPDATE ON engine_executions TO lekhika_queue;
GRANT USAGE ON SEQUENCE lease_tokens TO lekhika_queue;
CREATE POLICY queue_claim ON engine_executions FOR ALL TO lekhika_queue USING (true) WITH CHECK (true);

CREATE FUNCTION lekhika_claim(p_worker text, p_lease_ms bigint)
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
           lease_expires_at_ms = now_ms.v + p_lease_ms, updated_at_ms = now_ms.v
      FROM candidate, now_ms
     WHERE e.id = candidate.id
    RETURNING e.id, e.user_id, e.lease_token, e.lease_expires_at_ms
$$;
ALTER FUNCTION lekhika_claim(text, bigint) OWNER TO lekhika_queue;
REVOKE ALL ON FUNCTION lekhika_claim(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lekhika_claim(text, bigint) TO lekhika_app;

-- The application role's table privileges (RLS narrows them to rows).
GRANT USAGE ON SCHEMA public TO lekhika_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, ai_engines, ai_flows, engine_executions, node_results,
    artifacts, books, ai_providers, user_token_wallets TO lekhika_app;
-- The ledger is append-only for the application.
GRANT SELECT, INSERT ON ledger_entries TO lekhika_app;
GRANT SELECT ON ai_model_metadata TO lekhika_app;
GRANT SELECT, INSERT, UPDATE ON level_token_policies TO lekhika_app;
GRANT USAGE ON SEQUENCE ledger_entries_seq_seq TO lekhika_app;
GRANT EXECUTE ON FUNCTION lekhika_current_user(), lekhika_is_admin() TO lekhika_app;

-- The call journal: one row per model reply, keyed by the unit that asked
-- (node, item; -1 for the node itself) and the request's identity. A run
-- that starts again replays these replies instead of asking (and paying)
-- twice. Rows belong to the execution's owner, like checkpoints.
CREATE TABLE calls (
    user_id text NOT NULL,
    execution_id text NOT NULL REFERENCES engine_executions (id) ON DELETE CASCADE,
    node text COLLATE "C" NOT NULL,
    item bigint NOT NULL,
    request text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('text', 'image', 'speech')),
    provider text NOT NULL,
    model text NOT NULL,
    reply jsonb NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost bigint NOT NULL,
    charge text,
    recorded_at_ms bigint NOT NULL,
    PRIMARY KEY (execution_id, node, item, request)
);

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON calls FOR ALL TO lekhika_app
    USING (user_id = lekhika_current_user())
    WITH CHECK (user_id = lekhika_current_user());
CREATE POLICY platform_admin_read ON calls FOR SELECT TO lekhika_app
    USING (lekhika_is_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON calls TO lekhika_app;

-- Every runner (CLI run/resume, bindings, workers) holds its execution's
-- lease; the app role takes it for its own executions (under RLS), so it
-- needs the token sequence too.
GRANT USAGE ON SEQUENCE lease_tokens TO lekhika_app;

-- Lekhika schema: the seed's tables plus checkpoints, artifacts, ledger and
-- queue leases. Ids are text (UUIDs in practice; hosts may use their own).
-- Times the engine compares are epoch milliseconds (bigint).

CREATE TABLE users (
    id text PRIMARY KEY,
    email text,
    level text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_engines (
    id text PRIMARY KEY,
    name text NOT NULL,
    flow_config jsonb NOT NULL DEFAULT '{}',
    form_config jsonb NOT NULL DEFAULT '{}',
    user_id text,
    is_master boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (is_master OR user_id IS NOT NULL)
);
CREATE INDEX ai_engines_user ON ai_engines (user_id);

CREATE TABLE ai_flows (
    id text PRIMARY KEY,
    name text NOT NULL,
    description text,
    flow_key text UNIQUE,
    category text,
    nodes jsonb NOT NULL DEFAULT '[]',
    edges jsonb NOT NULL DEFAULT '[]',
    user_id text,
    is_master boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (is_master OR user_id IS NOT NULL)
);
CREATE INDEX ai_flows_user ON ai_flows (user_id);

-- One execution; lease_* and stop_requested make it the work queue's row.
CREATE TABLE engine_executions (
    id text PRIMARY KEY,
    user_id text NOT NULL,
    engine_id text,
    flow jsonb NOT NULL,
    user_input jsonb NOT NULL,
    options jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'running', 'paused', 'stopped', 'completed', 'failed')),
    message text,
    reason text,
    epoch integer NOT NULL DEFAULT 0,
    created_at_ms bigint NOT NULL,
    updated_at_ms bigint NOT NULL,
    stop_requested boolean NOT NULL DEFAULT false,
    lease_worker text,
    lease_token bigint,
    lease_expires_at_ms bigint
);
CREATE INDEX engine_executions_user ON engine_executions (user_id, created_at_ms);
CREATE INDEX engine_executions_queue ON engine_executions (created_at_ms)
    WHERE status IN ('pending', 'running');

-- Checkpoint rows: one per finished node (item = -1) or map item.
CREATE TABLE node_results (
    user_id text NOT NULL,
    execution_id text NOT NULL REFERENCES engine_executions (id) ON DELETE CASCADE,
    node text COLLATE "C" NOT NULL,
    item bigint NOT NULL,
    result jsonb NOT NULL,
    PRIMARY KEY (execution_id, node, item)
);

CREATE TABLE artifacts (
    user_id text NOT NULL,
    execution_id text NOT NULL REFERENCES engine_executions (id) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    mime text NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (execution_id, name)
);

CREATE TABLE books (
    id text PRIMARY KEY,
    user_id text NOT NULL,
    execution_id text NOT NULL REFERENCES engine_executions (id) ON DELETE CASCADE,
    title text NOT NULL,
    author text,
    content text,
    format_urls jsonb NOT NULL DEFAULT '{}',
    output_formats text[] NOT NULL DEFAULT '{}',
    ai_service text,
    word_count bigint NOT NULL DEFAULT 0,
    character_count bigint NOT NULL DEFAULT 0,
    created_at_ms bigint NOT NULL
);
CREATE INDEX books_user ON books (user_id, created_at_ms);

-- Provider API keys: AES-256-GCM ciphertext (nonce || sealed key) made by the
-- store with a key only the host holds; `api_key_hint` is the redacted form.
CREATE TABLE ai_providers (
    id text PRIMARY KEY,
    user_id text NOT NULL,
    name text NOT NULL,
    api_key_ciphertext bytea NOT NULL,
    api_key_hint text NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

-- Reference data, readable by every user.
CREATE TABLE ai_model_metadata (
    id text PRIMARY KEY,
    provider text NOT NULL,
    model_id text NOT NULL,
    name text NOT NULL,
    category text NOT NULL DEFAULT 'text',
    capabilities jsonb NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true,
    input_per_1k double precision,
    output_per_1k double precision,
    UNIQUE (provider, model_id)
);

CREATE TABLE user_token_wallets (
    user_id text PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    total_earned bigint NOT NULL DEFAULT 0,
    total_spent bigint NOT NULL DEFAULT 0,
    level text,
    current_period text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
    seq bigserial PRIMARY KEY,
    user_id text NOT NULL,
    key text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'release')),
    amount bigint NOT NULL,
    execution_id text,
    node_id text,
    note text,
    created_at_ms bigint NOT NULL,
    UNIQUE (user_id, key, kind)
);
CREATE INDEX ledger_entries_execution ON ledger_entries (user_id, execution_id);

CREATE TABLE level_token_policies (
    level text PRIMARY KEY,
    monthly_allocation bigint NOT NULL,
    per_execution_limit bigint,
    features jsonb NOT NULL DEFAULT '{}'
);

-- Lease tokens: strictly increasing across all claims (fencing).
CREATE SEQUENCE lease_tokens;

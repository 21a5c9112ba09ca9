-- Durable webhook delivery journal (PostgreSQL). Lease and backoff times
-- use the database clock so replicas with skewed clocks agree.
CREATE TABLE IF NOT EXISTS deliveries (
    id              TEXT        PRIMARY KEY,
    event           TEXT        NOT NULL,
    action          TEXT,
    payload         BYTEA       NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    state           TEXT        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'done', 'dead')),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS deliveries_claimable ON deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_lease ON deliveries (state, claimed_until);
CREATE INDEX IF NOT EXISTS deliveries_finished ON deliveries (state, finished_at);
CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries (received_at);

CREATE TABLE IF NOT EXISTS checkpoints (
    name       TEXT        PRIMARY KEY,
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS leases (
    name       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

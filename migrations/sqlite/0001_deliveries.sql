-- Durable webhook delivery journal (SQLite). Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS deliveries (
    id              TEXT    PRIMARY KEY NOT NULL,
    event           TEXT    NOT NULL,
    action          TEXT,
    payload         BLOB    NOT NULL,
    received_at     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'done', 'dead')),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    finished_at     INTEGER
);

-- claim: pending and due, or running with an expired lease.
CREATE INDEX IF NOT EXISTS deliveries_claimable ON deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_lease ON deliveries (state, claimed_until);
-- cleanup of old done rows; list newest first.
CREATE INDEX IF NOT EXISTS deliveries_finished ON deliveries (state, finished_at);
CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries (received_at);

-- Reconciler position (and any other named checkpoint).
CREATE TABLE IF NOT EXISTS checkpoints (
    name       TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Named leases: only one replica runs a singleton job at a time.
CREATE TABLE IF NOT EXISTS leases (
    name       TEXT    PRIMARY KEY NOT NULL,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- faxadmin: web sessions, API tokens, login attempts, and the indexes the fax lists need.

-- A browser session; the cookie holds a random token, the ledger only its SHA-256, so a copy of
-- the ledger does not let anyone log in.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    flash TEXT  -- one message shown on the next page (after a POST-redirect-GET)
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

-- Per-user REST API tokens (faxctl --url, scripts); stored hashed, shown once at creation.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins, for the rate limit (per user name and per client address).
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    client TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (user_name, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

-- Keyset pagination of the fax lists: (time, id) descending, per owner/device and filter.
CREATE INDEX jobs_created_id ON jobs (created_at, id);
CREATE INDEX jobs_owner_created ON jobs (owner, created_at, id);
CREATE INDEX jobs_number_created ON jobs (number, created_at, id);
CREATE INDEX received_faxes_at_id ON received_faxes (received_at, id);
CREATE INDEX received_faxes_device_at ON received_faxes (device_id, received_at, id);
CREATE INDEX received_faxes_caller_at ON received_faxes (caller_id, received_at, id);
CREATE INDEX fax_device_emails_email ON fax_device_emails (email);

-- Foundation tables. Times are UNIX seconds (REAL); JSON columns hold objects.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT NOT NULL,
    email TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);

CREATE TABLE fax_devices (
    id INTEGER PRIMARY KEY,
    extension TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'personal' CHECK (kind IN ('personal', 'group')),
    format TEXT NOT NULL DEFAULT 'pdf' CHECK (format IN ('pdf', 'tif', 'inlinegif')),
    created_at REAL NOT NULL
);

CREATE TABLE fax_device_emails (
    device_id INTEGER NOT NULL REFERENCES fax_devices (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (device_id, email)
);

-- A saved change waits here until it is applied; value NULL means "back to the default".
CREATE TABLE settings_pending (
    key TEXT PRIMARY KEY,
    value TEXT,
    changed_by TEXT NOT NULL,
    changed_at REAL NOT NULL
);

-- The applied overrides: what the programs run with (above appliance.yml and the environment).
CREATE TABLE settings_applied (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    applied_at REAL NOT NULL
);

-- Every apply keeps the whole applied set, so a change can be traced and rolled back.
CREATE TABLE settings_snapshots (
    id INTEGER PRIMARY KEY,
    applied_at REAL NOT NULL,
    applied_by TEXT NOT NULL,
    changed_keys TEXT NOT NULL,
    overrides TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Work accepted by a gateway (raw mail, print job, upload) and not yet turned into jobs.
-- The data file is in incoming/; faxqueued's intake claims rows in state 'new'.
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('mail', 'print', 'upload')),
    path TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    state TEXT NOT NULL DEFAULT 'new',
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX submissions_state ON submissions (state, created_at);

-- Converted documents (TIFF class F in docq/), shared by every job that sends them.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    pages INTEGER NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id),
    document_id INTEGER REFERENCES documents (id),
    number TEXT NOT NULL,
    recipient_name TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 200,
    tag TEXT NOT NULL DEFAULT '',
    owner TEXT,
    notify TEXT,
    tries INTEGER NOT NULL DEFAULT 0,
    max_tries INTEGER NOT NULL DEFAULT 3,
    dials INTEGER NOT NULL DEFAULT 0,
    max_dials INTEGER NOT NULL DEFAULT 12,
    pages_total INTEGER NOT NULL DEFAULT 0,
    pages_sent INTEGER NOT NULL DEFAULT 0,
    send_at REAL NOT NULL,
    kill_at REAL NOT NULL,
    next_try_at REAL,
    line TEXT,
    remote_ident TEXT,
    last_outcome TEXT,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX jobs_state ON jobs (state, priority, send_at);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE received_faxes (
    id INTEGER PRIMARY KEY,
    tiff_path TEXT NOT NULL,
    pdf_path TEXT,
    thumbnail_path TEXT,
    dnid TEXT NOT NULL DEFAULT '',
    caller_id TEXT NOT NULL DEFAULT '',
    remote_ident TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    line TEXT,
    bit_rate INTEGER,
    ecm INTEGER,
    duration REAL,
    device_id INTEGER REFERENCES fax_devices (id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'received',
    received_at REAL NOT NULL
);
CREATE INDEX received_faxes_at ON received_faxes (received_at);
CREATE INDEX received_faxes_dnid ON received_faxes (dnid, received_at);

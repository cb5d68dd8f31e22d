-- faxqueued's bookkeeping beside the foundation tables.

-- A cancel asked while the job's call runs: the call is aborted and the job ends cancelled.
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
-- When the job was handed to a line (the current attempt): a calls row for it starts after this.
ALTER TABLE jobs ADD COLUMN dispatched_at REAL;
-- Seconds of the last call, for notifications and xferfaxlog.
ALTER TABLE jobs ADD COLUMN duration REAL;
-- The state a suspended job goes back to when resumed is recomputed; this keeps the reason.
ALTER TABLE jobs ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]';

-- Notifications owed, written in the same transaction as the state change they tell about, so
-- a crash never loses one; faxqueued composes them into the outbox and marks them sent.
CREATE TABLE queue_notifications (
    id INTEGER PRIMARY KEY,
    job_id INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
    submission_id INTEGER REFERENCES submissions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('done', 'failed', 'requeued', 'rejected', 'cancelled',
                                       'skipped', 'bad')),
    address TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX queue_notifications_unsent ON queue_notifications (sent_at);

-- Print jobs without control fields, waiting for their user to give the number.
CREATE TABLE pending_print_jobs (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id) ON DELETE SET NULL,
    owner TEXT,
    title TEXT NOT NULL DEFAULT '',
    notify TEXT,
    path TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX pending_print_jobs_owner ON pending_print_jobs (owner, created_at);

-- Small facts faxqueued keeps between runs (e.g. when the cleanup last ran).
CREATE TABLE queue_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE INDEX jobs_number_state ON jobs (number, state);

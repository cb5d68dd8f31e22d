-- ippfaxd: IPP print jobs, shared by every gunicorn worker (job-id = id).
-- A job is created by Print-Job or Create-Job; its document becomes a `submissions` row
-- (kind 'print') when it has been spooled. `state` is the IPP job-state enum (3..9).
CREATE TABLE ipp_jobs (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id),
    name TEXT NOT NULL DEFAULT '',
    user_name TEXT NOT NULL DEFAULT '',
    owner TEXT,
    document_name TEXT NOT NULL DEFAULT '',
    document_format TEXT NOT NULL DEFAULT 'application/octet-stream',
    sniffed_format TEXT,
    state INTEGER NOT NULL DEFAULT 3,
    state_message TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    documents INTEGER NOT NULL DEFAULT 0,
    client TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    processing_at REAL,
    completed_at REAL
);
CREATE INDEX ipp_jobs_state ON ipp_jobs (state, id);
CREATE INDEX ipp_jobs_submission ON ipp_jobs (submission_id);

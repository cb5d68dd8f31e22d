-- ippfaxd: an IPP job goes with its submission. 0100 declared the reference without an ON DELETE
-- action, so the retention's DELETE of a 30-day-old print submission failed on the foreign key
-- and rolled the whole cleanup back, every run. SQLite cannot change a constraint in place:
-- the table is rebuilt with ON DELETE CASCADE.
CREATE TABLE ipp_jobs_new (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id) ON DELETE CASCADE,
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
INSERT INTO ipp_jobs_new SELECT * FROM ipp_jobs;
DROP TABLE ipp_jobs;
ALTER TABLE ipp_jobs_new RENAME TO ipp_jobs;
CREATE INDEX ipp_jobs_state ON ipp_jobs (state, id);
CREATE INDEX ipp_jobs_submission ON ipp_jobs (submission_id);

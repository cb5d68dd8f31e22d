-- One row per fax call, written by iaxmodemd when the call ends (and at its start, state 'active').
-- faxqueued consumes the results of outbound calls (consumed = 1 once the job was updated), so a
-- result survives a faxqueued restart. A row still 'active' after iaxmodemd restarted is an
-- interrupted call.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    job_id INTEGER REFERENCES jobs (id),
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    line TEXT NOT NULL,
    number TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'ended', 'interrupted')),
    outcome TEXT,
    message TEXT,
    reached_handshake INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    remote_ident TEXT NOT NULL DEFAULT '',
    bit_rate INTEGER,
    ecm INTEGER,
    resolution TEXT,
    session_log TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    consumed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_unconsumed ON calls (consumed, state);
CREATE INDEX calls_job ON calls (job_id);

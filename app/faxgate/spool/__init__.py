"""The HylaFAX-style spool: directory layout, atomic files, the SQLite ledger and intake."""

-- faxqueued: a held print job remembers which pages its IPP page-ranges selected ("1-2,5-5"),
-- so that only those pages are faxed when its user sends it. NULL: every page (jobs held
-- before this column existed, and jobs printed without page-ranges).
ALTER TABLE pending_print_jobs ADD COLUMN pages TEXT;

"""faxctl: the administrator's command line."""

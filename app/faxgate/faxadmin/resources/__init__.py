"""The falcon resources of faxadmin, one module per page area."""

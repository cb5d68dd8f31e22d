"""IPP (RFC 8010 encoding, RFC 8011 semantics) without I/O; imports nothing from the daemons."""

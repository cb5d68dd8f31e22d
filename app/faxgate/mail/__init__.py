"""Mail shared by the gateways and the queue: addresses, the MIME walk, TNEF (and the outbox)."""

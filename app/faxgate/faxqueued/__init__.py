"""faxqueued: the durable fax queue (HylaFAX faxq + notify + faxrcvd + faxcron)."""

"""What the appliance's two web services (ippfaxd, faxadmin) share about serving HTTP."""

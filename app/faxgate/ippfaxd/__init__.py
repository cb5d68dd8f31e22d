"""ippfaxd: the print-to-fax gateway, an IPP printer `/printers/sendfax` under gunicorn."""

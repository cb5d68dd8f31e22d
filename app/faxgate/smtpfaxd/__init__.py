"""smtpfaxd: the mail-to-fax gateway a company mail server relays `*.fax` mail to.

The SMTP session only decides (client, sender, recipients, size, disk) and stores the raw mail
durably before 250; `interpret.py` turns a stored mail into fax requests later, in faxqueued.
"""

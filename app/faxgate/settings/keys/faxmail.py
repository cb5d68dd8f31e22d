"""The mail-to-fax gateway keys, with the names and defaults of the vendor documentation."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.faxmail."

KEYS = [
    Key(
        P + "matcher.fax",
        KeyType.MATCHER,
        r"/^.*@([0-9][0-9-]*)\.fax$/i",
        programs=("smtpfaxd",),
        documented=True,
        help="Regular expression a recipient address must match; the first pair of brackets is the "
        "fax number (dashes in it are dropped), the part left of @ names the recipient on the cover page. For addresses like "
        "009912700619@mydomain.de use /||(\\d+)@.*/ (and accept that domain).",
    ),
    Key(
        P + "mode",
        KeyType.INTEGER,
        0,
        minimum=0,
        maximum=1,
        programs=("faxqueued",),
        documented=True,
        help="What of a mail is faxed. 0: the subject and body as the first page, then the "
        "attachments. 1: only the attachments (a mail without any is rejected).",
    ),
]

"""The print-to-fax gateway keys, with the names and defaults of the vendor documentation."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.faxprint."

KEYS = [
    Key(
        P + "mode",
        KeyType.INTEGER,
        1,
        minimum=1,
        maximum=3,
        programs=("ippfaxd", "faxqueued"),
        documented=True,
        help="Operating mode of the print gateway. 1: no control fields are searched, the job waits "
        "for its user to complete it (client hand-off). 2: control fields are required; a job "
        "without valid fields is stopped and the sender notified. 3: fields are searched; without "
        "any the job goes to the client hand-off.",
    ),
    Key(
        P + "matcher.fax",
        KeyType.MATCHER,
        r"/@@\+FAX:\s*(.*?)\s*@@/",
        programs=("faxqueued",),
        documented=True,
        help="Regular expression matching the fax number in the document. The first pair of "
        "brackets indicates the position of the number.",
    ),
    Key(
        P + "matcher.jobtag",
        KeyType.MATCHER,
        r"/@@\+TAG:\s*(.*?)\s*@@/",
        programs=("faxqueued",),
        documented=True,
        help="Regular expression matching the user-specified job name in the document. The first "
        "pair of brackets indicates the position of the field.",
    ),
    Key(
        P + "matcher.priority",
        KeyType.MATCHER,
        r"/@@\+PRIO:\s*(\d+?)\s*@@/",
        programs=("faxqueued",),
        documented=True,
        help="Regular expression matching the job priority (0-255) in the document. The first pair "
        "of brackets indicates the position of the priority number.",
    ),
    Key(
        P + "matcher.notify",
        KeyType.MATCHER,
        r"/@@\+NOTIFY:\s*(.*?@.*?)\s*@@/",
        programs=("faxqueued",),
        documented=True,
        help="Regular expression matching the e-mail address for notifications in the document. "
        "The first pair of brackets indicates the position of the address.",
    ),
    Key(
        P + "priority",
        KeyType.INTEGER,
        200,
        minimum=0,
        maximum=255,
        programs=("faxqueued",),
        documented=True,
        help="Default priority of print jobs without a PRIO field (lower is sent first; use 250 for "
        "large batch jobs so manual jobs do not wait behind them).",
    ),
    Key(
        P + "tries",
        KeyType.INTEGER,
        3,
        minimum=1,
        maximum=99,
        programs=("faxqueued",),
        documented=True,
        help="Number of tries to fax a printed document.",
    ),
    Key(
        P + "notify",
        KeyType.CHOICE,
        "faxmaster",
        choices=("faxmaster", "user"),
        programs=("faxqueued",),
        documented=True,
        help="Who is notified when the job has no NOTIFY field: the faxmaster, or "
        "user@<mail domain> of the user who printed it.",
    ),
    Key(
        P + "usermangle.search",
        KeyType.REGEX_OR_EMPTY,
        "",
        programs=("ippfaxd",),
        documented=True,
        help="Regular expression selecting the appliance user name from the print client's user "
        "name, e.g. /^(\\w+)\\..*/ keeps the part before the first dot. Empty: names are kept.",
    ),
    Key(
        P + "usermangle.replace",
        KeyType.STRING,
        "",
        programs=("ippfaxd",),
        documented=True,
        help="Replacement for usermangle.search; $1 is the first bracket, e.g. $1.",
    ),
]

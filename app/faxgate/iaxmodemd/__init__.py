"""iaxmodemd: the virtual fax lines — IAX2 endpoints over UDP with a spandsp fax terminal per call.

- :mod:`config` — the lines' settings as one immutable value;
- :mod:`policy` — who may call or register (pure);
- :mod:`audio` — the 20 ms audio clock of a call and its late-frame count;
- :mod:`records` — `calls` and `received_faxes` rows in the ledger, received TIFF numbering;
- :mod:`status` — HylaFAX-style status lines in `status/` and per-call session logs in `log/`;
- :mod:`faxcall` — one fax call: IAX2 call + fax terminal + audio clock;
- :mod:`line` — one line: its UDP socket, registration, its calls;
- :mod:`control` — the control socket for faxqueued (newline-delimited JSON);
- :mod:`daemon` / :mod:`main` — wiring, signals, `python -m faxgate iaxmodemd`.

See docs/telephony.md.
"""

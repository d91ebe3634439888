"""rehabill: billing engine for outpatient rehab practices (PT, OT, SLP).

The pure core (``domain``, ``reference``, ``coding``, ``rules``, ``x12``, ``ledger``) turns
documentation into claims and remittances into postings without touching files or databases;
the shell (``store``, ``services``, ``cli``, ``web``, ``simulate``) does the I/O. See DESIGN.md.
"""

__version__ = "0.1.0"

"""Reports: A/R aging, denial analysis, payment trends and KPIs over claim facts. Pure.

The store turns its rows into ``ClaimFact`` values; every report is a function from facts to a
``Table`` (title, columns, rows, notes), which the shell prints, writes as CSV or draws as SVG.
"""

from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.reports.facts import ClaimFact
from rehabill.reports.kpi import kpis
from rehabill.reports.tables import (
    Table,
    ar_aging,
    denial_analysis,
    kx_standing,
    payment_trends,
)

__all__ = ["ClaimFact", "Table", "ar_aging", "denial_analysis", "kpis", "kx_standing",
           "payment_trends"]

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)

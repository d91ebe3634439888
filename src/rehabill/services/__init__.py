"""Use cases, each one unit of work: import visits, code claims (and, later, scrub, batch,
read acknowledgments, post ERAs, report). The only layer that commits.
"""

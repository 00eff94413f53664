"""The clerks' web portal: search, read, correct and review the archive in a browser (`retrodig serve`).

It talks to the archive through the pipeline's Python API and to search only through the search protocol;
staff data (accounts, sessions, the audit log, review decisions) lives in `<archive>/portal/portal.sqlite`.
"""

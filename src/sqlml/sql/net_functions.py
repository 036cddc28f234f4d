"""BigQuery's NET functions: NET.HOST from the URL's text; the others are refused by name.

sqlglot passed ``NET.HOST(url)`` through as written, which DuckDB read as a function of a schema
named NET and answered by trying to install its 'inet' extension (an error offline, IP addresses
otherwise). NET.HOST trims spaces and drops the scheme (``http://``, or ``//`` alone), the user
information (``user:password@``) and the port, keeping an IPv6 host's brackets; an empty host is NULL
("mailto:?to=" gives "mailto", as the reference's table shows). NET.REG_DOMAIN and NET.PUBLIC_SUFFIX
need the public suffix list, the IP functions IP arithmetic sqlml does not have yet.
https://cloud.google.com/bigquery/docs/reference/standard-sql/net_functions#nethost
"""

from __future__ import annotations

from sqlglot import exp

#: Scheme (or //), user information, then the host: [IPv6] or up to a port, path, query or fragment.
_HOST = r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|//)?(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)"


def _net_function(self, node: exp.NetFunc) -> str:
    function = node.this
    if isinstance(function, exp.Host):
        url = self.sql(function, "this")
        return f"NULLIF(REGEXP_EXTRACT(TRIM({url}), '{_HOST}', 1), '')"
    name = function.name.upper() if isinstance(function, exp.Anonymous) else function.sql_name()
    return self.unsupported(f"NET.{name} is not supported yet") or "NULL"


#: Generator TRANSFORMS for NET.* calls.
NET_FUNCTIONS = {exp.NetFunc: _net_function}

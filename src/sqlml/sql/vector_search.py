"""VECTOR_SEARCH in FROM, BigQuery's nearest-neighbour search over embeddings, as an exact search.

https://cloud.google.com/bigquery/docs/reference/standard-sql/search_functions#vector_search —
``VECTOR_SEARCH({TABLE base_table | (base_query)}, column_to_search, {TABLE query_table |
(query)} [, query_column_to_search] [, top_k => 10] [, distance_type => 'EUCLIDEAN' | 'COSINE' |
'DOT_PRODUCT'] [, options => json])`` returns, for each query row, its ``top_k`` nearest base rows:
``query`` (a STRUCT of the query row's columns), ``base`` (a STRUCT of the base row's columns) and
``distance`` (FLOAT64, smaller is nearer; DOT_PRODUCT's is the negated dot product, so that order
holds). ``query_column_to_search`` defaults to ``column_to_search``; rows whose embedding is NULL are
not searched. The ML embedding tutorials search what ML.GENERATE_EMBEDDING wrote this way.

BigQuery answers from a vector index when one exists (approximately) and by brute force otherwise;
sqlml always searches exactly, so ``options`` (``fraction_lists_to_search``, ``use_brute_force``)
change nothing. A search becomes a DuckDB join of the two inputs ranked per query row; a table
alias used as a column is DuckDB's STRUCT of that row.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import SqlTypeError
from sqlml.sql.expressions import written_location
from sqlml.sql.templates import build

_DISTANCES = {
    "EUCLIDEAN": "list_distance(CAST(__p_b AS DOUBLE[]), CAST(__p_q AS DOUBLE[]))",
    "COSINE": "list_cosine_distance(CAST(__p_b AS DOUBLE[]), CAST(__p_q AS DOUBLE[]))",
    "DOT_PRODUCT": "-list_dot_product(CAST(__p_b AS DOUBLE[]), CAST(__p_q AS DOUBLE[]))",
}
_SEARCH = (
    "SELECT query, base, distance FROM (SELECT q.query, b.base, __p_distance AS distance "
    "FROM (SELECT __vs_q AS query, __vs_q.__p_qcol AS __vs_vector, row_number() OVER () AS __vs_row FROM __vs_query_input AS __vs_q) AS q "
    "CROSS JOIN (SELECT __vs_b AS base, __vs_b.__p_col AS __vs_vector FROM __vs_base_input AS __vs_b) AS b "
    "WHERE q.__vs_vector IS NOT NULL AND b.__vs_vector IS NOT NULL "
    "QUALIFY row_number() OVER (PARTITION BY q.__vs_row ORDER BY distance) <= __p_top_k)"
)


def vector_search(tree: exp.Expression) -> exp.Expression:
    """Replace each ``FROM VECTOR_SEARCH(…)`` with the ranked join that answers it."""
    for search in list(tree.find_all(exp.VectorSearch)):
        table = search.parent if isinstance(search.parent, exp.Table) else search
        subquery = _search(search).subquery(table.alias or None)
        table.replace(subquery)
    return tree


def _search(search: exp.VectorSearch) -> exp.Select:
    column = _column_name(search.args.get("column_to_search"), "column_to_search", search)
    query_column = _column_name(search.args.get("query_column_to_search"), "query_column_to_search", search) if search.args.get("query_column_to_search") else column
    kind = _setting(search, "distance_type", exp.Literal.string("EUCLIDEAN"))
    if not (isinstance(kind, exp.Literal) and kind.is_string and kind.name.upper() in _DISTANCES):
        raise SqlTypeError(
            f"The distance_type of VECTOR_SEARCH must be 'EUCLIDEAN', 'COSINE' or 'DOT_PRODUCT'. Got {kind.sql(dialect='bigquery')} instead.",
            location=written_location(search),
        )
    top_k = _setting(search, "top_k", exp.Literal.number(10))
    distance = build(_DISTANCES[kind.name.upper()], b=exp.column("__vs_vector", "b"), q=exp.column("__vs_vector", "q"))
    select = build(_SEARCH, distance=distance, top_k=top_k)
    for placeholder, name in (("__p_col", column), ("__p_qcol", query_column)):  # qualified: build leaves them
        next(c for c in select.find_all(exp.Column) if c.name == placeholder).set("this", exp.to_identifier(name, quoted=True))
    for name, source in (("__vs_query_input", search.args["query_table"]), ("__vs_base_input", search.this)):
        placeholder = next(t for t in select.find_all(exp.Table) if t.name == name)
        placeholder.replace(_aliased(source, placeholder.alias))
    return select


def _aliased(source: exp.Expression, alias: str) -> exp.Expression:
    source = source.copy()
    if isinstance(source, exp.Subquery):
        source.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        return source
    return exp.alias_(source, alias, table=True)


def _column_name(value: exp.Expression | None, argument: str, search: exp.VectorSearch) -> str:
    if not (isinstance(value, exp.Literal) and value.is_string):
        raise SqlTypeError(f"The {argument} argument of VECTOR_SEARCH must be a column name as a STRING literal.", location=written_location(search))
    return value.name


def _setting(search: exp.VectorSearch, name: str, default: exp.Expression) -> exp.Expression:
    value = search.args.get(name)
    return value.expression if isinstance(value, exp.Kwarg) else (value or default)

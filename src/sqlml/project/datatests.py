"""Data tests: dbt's four generic tests declared in YAML (:data:`~sqlml.project.config.GENERIC_TESTS`), and singular SQL tests.

A test is a query that returns the failing rows; it passes when it returns none. Generic tests
become nodes named like dbt's (``not_null_orders_id``) that run after the node they test.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import ProjectError
from sqlml.project.config import Project
from sqlml.project.kinds import NodeKind
from sqlml.project.nodes import Node, render_context
from sqlml.project.templating import Templates
from sqlml.sql.dialect import Sqlml



def generic_test_nodes(project: Project, nodes: dict[str, Node], templates: Templates) -> list[Node]:
    """One test node per YAML-declared test, depending on what it tests (and on ``to`` for relationships).

    Tests of a source are named as dbt names them (``source_unique_raw_orders_id``) and run after
    whatever node writes the source's table, if one does.
    """
    result = []
    for target, tests in project.column_tests.items():
        if target in project.disabled:
            continue  # as in dbt, the tests of a disabled node are disabled with it
        if target not in nodes:
            raise ProjectError(f"Tests are declared for {target}, which is not a node of the project.", node=target)
        for column, name, arguments in tests:
            node = _test_node(project, templates, [name, target, column], nodes[target].path, {"model": target, **arguments})
            node.refs.insert(0, target)
            result.append(node)
    for (source, table), tests in project.source_tests.items():
        relation = project.sources[(source, table)]
        for column, name, arguments in tests:
            node = _test_node(project, templates, [name, source, table, column], project.root, {"relation": relation, **arguments})
            node.name = f"source_{node.name}"
            node.inputs = {relation.lower()}
            result.append(node)
    return result


def _test_node(project: Project, templates: Templates, parts: list, path: Path, config: dict) -> Node:
    """The test ``parts[0]`` on ``parts[1:]`` (node or source and table, then column), with ``config`` (target and arguments)."""
    name, column, where = parts[0], parts[-1], ".".join(p for p in parts[1:] if p)
    node = Node("_".join(p for p in parts if p), NodeKind.TEST, path, config={"test": name, "column": column, **config})
    to = config.get("to")
    if name == "relationships":
        if not to or not config.get("field"):
            raise ProjectError(f"relationships on {where} needs `to:` and `field:`.", node=node.name)
        node.config["to_template"] = "{{ " + to + " }}" if "(" in str(to) else str(to)
        context = render_context(project, node.name, node.path)
        templates.render(node.config["to_template"], context)  # records the refs of `to`
        node.refs += context.refs
    return node


def generic_test_sql(node: Node, relation: str, to_relation: str | None = None, where: str | None = None) -> str:
    """The query returning the rows that fail a generic test; ``where`` (rendered) keeps only the rows it holds for,
    as dbt's ``where`` test config does (https://docs.getdbt.com/reference/resource-configs/where)."""
    test, column = node.config["test"], node.config.get("column")
    relation = f"(SELECT * FROM {relation} WHERE {where})" if where else relation
    if test == "not_null":
        return f"SELECT * FROM {relation} WHERE {column} IS NULL"
    if test == "unique":
        return f"SELECT {column}, COUNT(*) AS n FROM {relation} WHERE {column} IS NOT NULL GROUP BY {column} HAVING COUNT(*) > 1"
    if test == "accepted_values":
        values = node.config.get("values") or []
        listed = ", ".join(exp.Literal.string(str(v).lower() if isinstance(v, bool) else str(v)).sql(dialect=Sqlml) for v in values)
        return f"SELECT {column} FROM {relation} WHERE {column} IS NOT NULL AND CAST({column} AS STRING) NOT IN ({listed})"
    field = node.config["field"]
    return (
        f"SELECT c.{column} FROM {relation} AS c LEFT JOIN {to_relation} AS p ON c.{column} = p.{field} "
        f"WHERE c.{column} IS NOT NULL AND p.{field} IS NULL"
    )


def failures_sql(query: str) -> str:
    """Count the rows a test query returns."""
    return f"SELECT COUNT(*) FROM (\n{query}\n)"


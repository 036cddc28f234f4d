"""Data tests: dbt's four generic tests declared in YAML, and singular SQL tests.

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

GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships")


def generic_test_nodes(project: Project, nodes: dict[str, Node], templates: Templates) -> list[Node]:
    """One test node per YAML-declared test, depending on the node it tests (and on ``to`` for relationships)."""
    result = []
    for target, tests in project.column_tests.items():
        if target in project.disabled:
            continue  # as in dbt, the tests of a disabled node are disabled with it
        if target not in nodes:
            raise ProjectError(f"Tests are declared for {target}, which is not a node of the project.", node=target)
        for column, name, arguments in tests:
            if name not in GENERIC_TESTS:
                raise ProjectError(
                    f"Unknown test '{name}' on {target}.{column}.", node=target,
                    hint=f"Generic tests: {', '.join(GENERIC_TESTS)}; write others as SQL files in tests/.",
                )  # fmt: skip
            test_name = "_".join(part for part in (name, target, column) if part)
            node = Node(test_name, NodeKind.TEST, nodes[target].path, config={"test": name, "column": column, "model": target, **arguments})
            node.refs = [target]
            to = arguments.get("to")
            if name == "relationships":
                if not to or not arguments.get("field"):
                    raise ProjectError(f"relationships on {target}.{column} needs `to:` and `field:`.", node=target)
                node.config["to_template"] = "{{ " + to + " }}" if "(" in str(to) else str(to)
                context = render_context(project, test_name, node.path)
                templates.render(node.config["to_template"], context)  # records the refs of `to`
                node.refs += context.refs
            result.append(node)
    return result


def generic_test_sql(node: Node, relation: str, to_relation: str | None = None) -> str:
    """The query returning the rows that fail a generic test."""
    test, column = node.config["test"], node.config.get("column")
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


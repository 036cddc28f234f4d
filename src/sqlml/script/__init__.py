"""BigQuery scripting: variables, control flow, exception handlers and stored procedures.

Registers :func:`run_node` as the executor's runner for procedural nodes, and for every
statement once the session has variables (a statement may read them). Variables DECLAREd at a
script's top level belong to the connection's session, as in a BigQuery session, so a later
``query()`` call or shell input still sees them.
"""

from __future__ import annotations

from sqlml.execution.executor import SCRIPT_RUNNER
from sqlml.result import Result
from sqlml.script.interpreter import Interpreter
from sqlml.script.variables import Scope, SystemVariables


def run_node(executor, node, run, keep_result: bool) -> Result:
    """Run one top-level script node with the session's variables."""
    scope = executor.session.setdefault("variables", Scope())
    system = executor.session.setdefault("system_variables", SystemVariables())
    return Interpreter(executor, run, system).run_top(node, scope)


def needs_interpreter(executor, node) -> bool:
    """Whether a plain statement must go through the interpreter: it may read variables."""
    scope = executor.session.get("variables")
    if scope is not None and scope.variables:
        return True
    return any(a.text == "@" and b.text == "@" for a, b in zip(node.tokens, node.tokens[1:]))  # @@system variable


SCRIPT_RUNNER.append((needs_interpreter, run_node))

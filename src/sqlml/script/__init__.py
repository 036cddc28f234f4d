"""BigQuery scripting: variables, control flow, exception handlers and stored procedures.

:data:`RUNNER` is what the executor is given to run procedural nodes, and every statement once
the session has variables (a statement may read them). Variables DECLAREd at a script's top
level belong to the connection's session, as in a BigQuery session, so a later ``query()`` call
or shell input still sees them. The interpreter (and the procedures, routines and bindings it
imports) loads when a statement first needs it: a plain query never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlml.execution.context import ScriptRun
    from sqlml.execution.executor import Executor
    from sqlml.result import Result
    from sqlml.sql.nodes import Node


class ScriptRunner:
    """The interpreter as the executor's :class:`~sqlml.execution.context.ProceduralRunner`."""

    def needs(self, executor: Executor, node: Node) -> bool:
        """Whether a plain statement must go through the interpreter: it may read variables."""
        scope = executor.session.get("variables")
        if scope is not None and scope.variables:
            return True
        return any(a.text == "@" and b.text == "@" for a, b in zip(node.tokens, node.tokens[1:]))  # @@system variable

    def run(self, executor: Executor, node: Node, run: ScriptRun, keep_result: bool) -> Result:
        """Run one top-level script node with the session's variables."""
        from sqlml.script.interpreter import Interpreter
        from sqlml.script.variables import Scope, SystemVariables

        scope = executor.session.setdefault("variables", Scope())
        system = executor.session.setdefault("system_variables", SystemVariables())
        return Interpreter(executor, run, system).run_top(node, scope)


#: The one runner (it keeps no state: the session's variables live on the executor).
RUNNER = ScriptRunner()

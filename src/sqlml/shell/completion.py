"""Tab completion for the shell: SQL keywords, ML functions, model types, CREATE MODEL options,
and the datasets, tables, columns and models of the warehouse.

The catalog part is read through the session's INFORMATION_SCHEMA views and re-read after any
statement that may have changed it (the session raises ``catalog_changed``), outside the user's
transactions. What is offered depends on the word being typed: ``ds.`` offers the dataset's
tables, views and models, ``ML.`` the ML functions, ``t.`` (a table or alias-free table name) its
columns, a word inside ``model_type='…'`` the model types; anything else every name that starts
that way.
"""

from __future__ import annotations

from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from sqlml.shell.session import Session


def static_words(dialect) -> tuple[list[str], list[str], list[str], list[str]]:
    """(SQL keywords, ML function names, model types, CREATE MODEL option names)."""
    from sqlml.ml.models.catalog import all_option_names, model_types
    from sqlml.sql.expressions import ML_FUNCTIONS

    keywords = sorted({word for word in dialect.Tokenizer.KEYWORDS if word.replace(" ", "").isalpha()})
    functions = sorted(name for name, node in ML_FUNCTIONS.items() if node.supported)  # not those that only parse
    types = sorted(model_type.lower() for model_type in model_types())
    options = sorted(all_option_names())
    return keywords, functions, types, options


class Catalog:
    """Datasets → tables/views and models; table → columns; read again when the session says so."""

    def __init__(self, session: Session):
        self.session = session
        self.tables: dict[str, set[str]] = {}
        self.models: dict[str, set[str]] = {}
        self.columns: dict[str, set[str]] = {}

    def refresh(self) -> None:
        # Never inside the user's open transaction: a failing catalog query would roll it back.
        # The names are read again once it ends.
        if not self.session.catalog_changed or self.session.connection.in_transaction:
            return
        self.session.catalog_changed = False
        query = self.session.connection.query
        try:
            columns = self.session.call(
                lambda: query(
                    "SELECT table_schema, table_name, column_name FROM `region-us`.INFORMATION_SCHEMA.COLUMNS"
                ).fetchall()
            )
            models = self.session.call(
                lambda: query("SELECT model_schema, model_name FROM `region-us`.INFORMATION_SCHEMA.MODELS").fetchall()
            )
        except Exception:  # noqa: BLE001 — completion must never break the prompt; names just stay as they were
            return
        self.tables, self.columns, self.models = {}, {}, {}
        for dataset, table, column in columns:
            self.tables.setdefault(dataset.lower(), set()).add(table)
            self.columns.setdefault(table.lower(), set()).add(column)
            self.columns.setdefault(f"{dataset}.{table}".lower(), set()).add(column)
        for dataset, model in models:
            self.models.setdefault(dataset.lower(), set()).add(model)

    @property
    def datasets(self) -> set[str]:
        return set(self.tables) | set(self.models)


class SqlCompleter(Completer):
    """prompt_toolkit completer over :func:`static_words` and a :class:`Catalog`."""

    def __init__(self, session: Session, dialect):
        self.catalog = Catalog(session)
        self.keywords, self.functions, self.model_types, self.options = static_words(dialect)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        self.catalog.refresh()
        before = document.text_before_cursor
        word = before[max(before.rfind(c) for c in _SEPARATORS) + 1 :]
        for candidate in self.candidates(before, word):
            yield Completion(candidate, start_position=-len(word.rpartition(".")[2]) if "." in word else -len(word))

    def candidates(self, before: str, word: str) -> list[str]:
        """Names completing ``word``, the text typed since the last space (``before``: all of it)."""
        if _inside_model_type(before):
            partial = before.rpartition("'")[2].lower()
            return [t for t in self.model_types if t.startswith(partial)]
        if "." in word:
            head, _, partial = word.rpartition(".")
            head = head.lower()
            if head == "ml":
                pool = self.functions
            elif head in self.catalog.datasets:
                pool = sorted(self.catalog.tables.get(head, set()) | self.catalog.models.get(head, set()))
            else:
                pool = sorted(self.catalog.columns.get(head, set()))
            return [name for name in pool if name.lower().startswith(partial.lower())]
        lowered = word.lower()
        if not lowered:
            return []
        names = sorted(self.catalog.datasets) + sorted({c for cols in self.catalog.columns.values() for c in cols})
        words = [k for k in self.keywords if k.lower().startswith(lowered)]
        words += [n for n in names + self.options if n.lower().startswith(lowered)]
        if "ml".startswith(lowered):
            words.append("ML.")
        return list(dict.fromkeys(words))


#: Characters that end the word being completed.
_SEPARATORS = " \t\n(),=`;"


def _inside_model_type(before: str) -> bool:
    """Whether the cursor is inside the quotes of ``model_type='…``."""
    head, quote, _ = before.rpartition("'")
    return bool(quote) and head.count("'") % 2 == 0 and head.rstrip(" =").lower().endswith("model_type")

"""The engine seam: the DuckDB implementation matches the Protocols of sqlml.engine.base member by
member, only the implementation touches DuckDB's Python API, and DuckDB's exceptions leave it
as the seam's EngineError kinds with DuckDB's message."""

from __future__ import annotations

import ast
import inspect
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import sqlml
from sqlml.engine import base
from sqlml.engine.base import Cursor, EngineConversionError, EngineError, EngineSyntaxError, Relation, SqlEngine
from sqlml.engine.duckdb import scratch
from sqlml.engine.duckdb.cursor import DuckDBCursor, DuckDBRelation
from sqlml.engine.duckdb.engine import DuckDBEngine
from sqlml.udfs import duckdb_installers
from sqlml.warehouse.fingerprint import fingerprints

SRC = Path(sqlml.__file__).parent
#: The DuckDB implementation of the seam: the only package that may use DuckDB's Python API.
IMPLEMENTATION = "sqlml.engine.duckdb"
#: Modules outside the implementation that may import duckdb, each for a reason.
ALLOWED = {
    # BigQuery functions DuckDB lacks, written as DuckDB Python UDFs (duckdb.sqltypes signatures);
    # a connection hands their installers to the implementation (sqlml/udfs.py), which runs them.
    "sqlml.warehouse.fingerprint": "FARM_FINGERPRINT as a DuckDB UDF, installed by the implementation",
    "sqlml.warehouse.geography": "GEOGRAPHY functions as DuckDB UDFs, installed by the implementation",
    "sqlml.ml.monitoring.tfdv_validate": "ML.TFDV_VALIDATE's helpers as DuckDB UDFs, installed by the implementation",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_duckdb(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "duckdb" or a.name.startswith("duckdb.") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "duckdb":
            return True
    return False


def test_only_the_duckdb_implementation_imports_duckdb():
    importers = {
        _module_name(path)
        for path in SRC.rglob("*.py")
        if _imports_duckdb(ast.parse(path.read_text(encoding="utf-8")))
    }
    outside = {name for name in importers if name != IMPLEMENTATION and not name.startswith(IMPLEMENTATION + ".")}
    assert outside - ALLOWED.keys() == set(), "import duckdb above the seam: use sqlml.engine.base's Protocols"
    assert ALLOWED.keys() - outside == set(), "an allowed module no longer imports duckdb: drop it from ALLOWED"


def test_the_import_check_sees_every_form_of_import():
    forms = ["import duckdb", "import duckdb.sqltypes", "from duckdb import sqltypes", "def f():\n    import duckdb"]
    assert all(_imports_duckdb(ast.parse(source)) for source in forms)
    assert not _imports_duckdb(ast.parse("from sqlml.engine.duckdb import scratch\nfrom .duckdb import x"))


def _members(protocol: type) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def _shape(member: object) -> list[tuple[str, object, bool]]:
    """Parameter names, kinds and whether each has a default: what a caller relies on."""
    function = member.fget if isinstance(member, property) else member
    return [(p.name, p.kind, p.default is not p.empty) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [(SqlEngine, DuckDBEngine), (Cursor, DuckDBCursor), (Relation, DuckDBRelation)],
    ids=["SqlEngine", "Cursor", "Relation"],
)
def test_the_duckdb_implementation_has_every_member_of_the_protocol_with_its_signature(protocol, implementation):
    members = _members(protocol)
    assert members, f"{protocol.__name__} declares no members"
    for name, member in members.items():
        implemented = inspect.getattr_static(implementation, name, None)
        assert implemented is not None, f"{implementation.__name__} lacks {name}"
        assert isinstance(implemented, property) == isinstance(member, property), f"{name}: property or method differ"
        wrapped = getattr(implemented, "__wrapped__", implemented)  # a @contextmanager method
        assert _shape(wrapped) == _shape(member), f"{implementation.__name__}.{name} differs from {protocol.__name__}.{name}"


def test_the_engines_abilities_are_members_of_the_seam_not_probed_attributes():
    # what only some engines can do is asked through these members (Spark: True / driver only)
    assert "maps_batches" in _members(Cursor) and "map_batches" in _members(Relation)
    assert "check_training" in _members(SqlEngine)
    probes = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if any(f'{probe}(' in text and f'"{name}"' in text
               for text in [path.read_text(encoding="utf-8")]
               for probe in ("getattr", "hasattr") for name in ("maps_batches", "map_batches", "check_training"))
    ]  # fmt: skip
    assert probes == []


def test_duckdb_maps_no_batches_and_trains_anything_but_refuses_spark_train():
    engine = DuckDBEngine(None)
    try:
        engine.check_training("LINEAR_REG", None)  # trains in this process: nothing refused
        with pytest.raises(sqlml.InvalidOptionError) as refused:
            engine.check_training("LINEAR_REG", "driver")
        assert (refused.value.message, refused.value.hint) == ("spark_train applies to the Spark engine only.", "Remove it.")
        with engine.lease() as cursor:
            assert cursor.maps_batches is False
            with pytest.raises(EngineError, match=r"DuckDB maps no Arrow batches on workers \(view v\)"):
                cursor.sql("SELECT 1 AS a").map_batches(iter, pa.schema([("a", pa.int32())]), "v")
            assert cursor.relation_kind("main", "v") is None and "v" not in cursor.session_relations()
    finally:
        engine.close()


def test_duckdb_objects_are_instances_of_the_runtime_checkable_protocols():
    engine = DuckDBEngine(None)
    try:
        assert isinstance(engine, SqlEngine) and isinstance(engine.session(), SqlEngine)
        with engine.lease() as cursor:
            assert isinstance(cursor, Cursor)
            assert isinstance(cursor.sql("SELECT 1 AS a"), Relation)
        side = engine.new_cursor()
        assert isinstance(side, Cursor)
        side.close()
        assert isinstance(scratch.cursor(), Cursor)
    finally:
        engine.close()


@pytest.fixture
def engine():
    engine = DuckDBEngine(None)
    with engine.lease() as cursor:
        cursor.execute("CREATE SCHEMA ds")
        cursor.execute("CREATE TABLE ds.t (id BIGINT, name VARCHAR, tags VARCHAR[])")
        cursor.execute("CREATE VIEW ds.v AS SELECT id FROM ds.t")
    yield engine
    engine.close()


def test_catalog_lookups_compare_names_as_the_engine_resolves_them(engine):
    with engine.lease() as cursor:
        assert cursor.dataset_exists("ds") and cursor.dataset_exists("DS") and not cursor.dataset_exists("other")
        assert cursor.relation_kind("ds", "t") == "table" and cursor.relation_kind("DS", "T") == "table"
        assert cursor.relation_kind("ds", "v") == "view"
        assert cursor.relation_kind("ds", "nope") is None and cursor.relation_kind("other", "t") is None
        assert cursor.table_columns("Ds", "t") == [("id", "BIGINT"), ("name", "VARCHAR"), ("tags", "VARCHAR[]")]
        assert cursor.table_columns("ds", "nope") == []
        cursor.execute("CREATE SCHEMA a; CREATE TABLE a.z (x INT)")
        assert cursor.list_tables() == [("a", "z"), ("ds", "t"), ("ds", "v")]
        assert cursor.list_tables("DS") == [("ds", "t"), ("ds", "v")]
        assert cursor.list_tables("ds", views=False) == [("ds", "t")]


def test_session_relations_are_temp_tables_views_and_registered_data(engine):
    engine.register("frame", pa.table({"f": [1.5]}))
    with engine.lease() as cursor:
        cursor.execute("CREATE TEMP TABLE scratchpad (s VARCHAR)")
        cursor.execute("CREATE TEMP VIEW peek AS SELECT 1 AS p")
        assert sorted(cursor.session_relations()) == ["frame", "peek", "scratchpad"]
        # an unqualified name's columns, wherever it may resolve: the session's and every dataset's
        assert cursor.table_columns(None, "SCRATCHPAD") == [("s", "VARCHAR")]
        assert cursor.table_columns(None, "frame") == [("f", "DOUBLE")]
        assert cursor.table_columns(None, "t") == [("id", "BIGINT"), ("name", "VARCHAR"), ("tags", "VARCHAR[]")]
        assert cursor.table_columns("ds", "scratchpad") == []


def test_a_views_definition_is_the_engines_own_sql(engine):
    with engine.lease() as cursor:
        assert cursor.view_definition("DS", "v") == "CREATE VIEW ds.v AS SELECT id FROM ds.t;"
        assert cursor.view_definition("ds", "t") is None and cursor.view_definition("ds", "nope") is None


def test_catalog_lookups_see_the_cursors_own_transaction(engine):
    with engine.lease() as cursor:
        cursor.begin()
        cursor.execute("CREATE TABLE ds.fresh (x INT)")
        assert cursor.relation_kind("ds", "fresh") == "table"
        other = engine.new_cursor()
        assert other.relation_kind("ds", "fresh") is None  # not committed: another cursor does not see it
        other.close()
        cursor.rollback()
        assert cursor.relation_kind("ds", "fresh") is None


def test_a_relation_reports_its_columns_and_arrow_schema_before_it_runs(engine):
    with engine.lease() as cursor:
        relation = cursor.sql("SELECT id, tags, SUM(id) OVER () AS total FROM ds.t")
        assert relation.columns == ["id", "tags", "total"]
        assert relation.types == ["BIGINT", "VARCHAR[]", "HUGEINT"]
        assert relation.arrow_schema == pa.schema(
            [("id", pa.int64()), ("tags", pa.list_(pa.string())), ("total", pa.decimal128(38, 0))]
        )
        cursor.execute("INSERT INTO ds.t VALUES (?, ?, ?)", [7, "a", ["x"]])
        assert cursor.execute("SELECT id, name FROM ds.t").fetchall() == [(7, "a")]
        assert [d[0] for d in cursor.execute("SELECT name, id FROM ds.t").description] == ["name", "id"]


def test_registered_arrow_is_readable_and_unregistered_is_gone(engine):
    engine.register("numbers", pa.table({"n": [1, 2, 3]}))
    with engine.lease() as cursor:
        assert cursor.sql("SELECT SUM(n) FROM numbers").fetchall() == [(6,)]
        reader = cursor.sql("SELECT n FROM numbers ORDER BY n").to_arrow_reader(2)
        assert [batch.num_rows for batch in reader] == [2, 1]
    engine.unregister("numbers")
    with engine.lease() as cursor, pytest.raises(EngineError, match="numbers does not exist"):
        cursor.sql("SELECT * FROM numbers")


def test_duckdb_exceptions_leave_the_implementation_as_engine_errors_with_their_message(engine):
    with engine.lease() as cursor:
        with pytest.raises(EngineConversionError, match="Could not convert string 'x' to INT32") as caught:
            cursor.execute("SELECT CAST('x' AS INTEGER)")
        assert not isinstance(caught.value, duckdb.Error) and isinstance(caught.value.__cause__, duckdb.Error)
        with pytest.raises(EngineSyntaxError, match='syntax error at or near "SELEC"'):
            cursor.execute("SELEC 1")
        relation = cursor.sql("SELECT CAST(name AS INTEGER) FROM (VALUES ('y')) AS v(name)")
        with pytest.raises(EngineConversionError, match="Could not convert string 'y'"):
            relation.fetchall()


def test_a_transaction_conflict_is_an_engine_transaction_error(engine):
    with engine.lease() as cursor:
        cursor.execute("INSERT INTO ds.t VALUES (1, 'a', [])")
    first, second = engine.new_cursor(), engine.new_cursor()
    first.begin()
    second.begin()
    first.execute("UPDATE ds.t SET name = 'b'")
    with pytest.raises(base.EngineTransactionError, match="Conflict"):
        second.execute("UPDATE ds.t SET name = 'c'")
    second.rollback()
    first.commit()
    first.close()
    second.close()


def test_write_turns_are_taken_and_given_back_through_the_seam(engine):
    cancel, owner, other = threading.Event(), object(), engine.session()
    engine.take_turn("ds.t", owner, transaction=False, cancel=cancel)
    with pytest.raises(sqlml.TransactionError, match="cannot write ds.t"):
        other.take_turn("ds.t", other, transaction=True, cancel=cancel)
    engine.give_back_turns(owner)
    other.take_turn("ds.t", other, transaction=True, cancel=cancel)
    other.give_back_turns(other)


def test_built_in_functions_are_handed_in_by_whoever_opens_the_engine():
    bare = DuckDBEngine(None)
    with bare.lease() as cursor, pytest.raises(EngineError, match="farm_fingerprint does not exist"):
        cursor.execute("SELECT memory.main.farm_fingerprint('a')")
    bare.close()
    expected = fingerprints(pa.array(["a"]))[0].as_py()
    full = DuckDBEngine(None, functions=duckdb_installers())
    try:
        with full.lease() as cursor:
            assert cursor.execute("SELECT memory.main.farm_fingerprint('a')").fetchall() == [(expected,)]
        # SQL over values outside the warehouse (frozen TRANSFORMs, constant arguments) has them too
        assert scratch.cursor().execute("SELECT memory.main.farm_fingerprint('a')").fetchall() == [(expected,)]
    finally:
        full.close()


def test_the_engine_names_no_module_above_it():
    # no importlib over module names: what the engine runs from above is handed in (sqlml/udfs.py)
    engine_modules = (SRC / "engine").rglob("*.py")
    assert not [path.name for path in engine_modules if "importlib" in path.read_text(encoding="utf-8")]

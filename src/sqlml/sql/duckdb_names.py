"""Names that the DuckDB SQL sqlml generates relies on: the catalog the warehouse is attached as, and
the built-in macros (FARM_FINGERPRINT, ML.TFDV_VALIDATE, the ST_* geography functions) that stand
in for BigQuery functions DuckDB lacks.

The SQL front end writes these names into the SQL it generates; the engine attaches the warehouse
and installs the macros under them (:mod:`sqlml.engine.duckdb.builtins`). Defining them here, in
the lowest layer, lets both sides use one definition without the front end importing the engine.
"""

from __future__ import annotations

#: The catalog the warehouse's datasets live in, in the engine's SQL (``warehouse.ds.t``);
#: unqualified names resolve in it.
CATALOG = "warehouse"
#: DuckDB's own catalogs: kept in three-part names, where a BigQuery project part is dropped.
ENGINE_CATALOGS = frozenset({"memory", "temp", "system", CATALOG})
#: The schema of sqlml's own tables in the warehouse (:mod:`sqlml.warehouse.meta`): an engine that
#: keeps them apart from the datasets (:mod:`sqlml.engine.spark`) routes statements on it.
META_SCHEMA = "sqlml_meta"

#: FarmHash Fingerprint64 (see :mod:`sqlml.warehouse.fingerprint`).
FARM_FINGERPRINT = "memory.main.farm_fingerprint"
#: ML.TFDV_VALIDATE (see :mod:`sqlml.sql.ml_scalars`).
TFDV_VALIDATE = "memory.main.ml_tfdv_validate"
#: ML.DISTANCE's macro for each distance type, and ML.LP_NORM's (see :mod:`sqlml.warehouse.vectors`).
VECTOR_DISTANCE = {kind: f"memory.main.ml_distance_{kind.lower()}" for kind in ("EUCLIDEAN", "MANHATTAN", "COSINE")}
LP_NORM = "memory.main.ml_lp_norm"
#: The macro each supported BigQuery geography function calls (see :mod:`sqlml.warehouse.geography`).
GEOGRAPHY = {
    name: f"memory.main.{name.lower()}"
    for name in ("ST_GEOGPOINT", "ST_GEOGFROMTEXT", "ST_ASTEXT", "ST_X", "ST_Y", "ST_DISTANCE", "ST_DWITHIN", "ST_SNAPTOGRID")
}

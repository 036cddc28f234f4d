"""dbt config for ``sqlml run``: folder-level config from dbt_project.yml, and which config keys sqlml applies.

A node's config is, least specific first: the ``+key`` entries of ``models:`` (or ``seeds:``) in
dbt_project.yml from the top down its resource path (project name, folders, file name), then its
``config:`` in a properties YAML file, then its in-file ``{{ config(...) }}``; the more specific
value replaces the other, except ``tags``, which add up
(https://docs.getdbt.com/reference/define-configs,
https://docs.getdbt.com/reference/resource-configs/resource-path,
https://docs.getdbt.com/reference/resource-configs/plus-prefix).
"""

from __future__ import annotations

from pathlib import Path

from sqlml.project.kinds import Materialization
from sqlml.project.unsupported import unsupported, yaml_line

#: Config keys ``sqlml run`` applies to models (dbt's and sqlml's own).
MODEL_KEYS = {"materialized", "schema", "alias", "tags", "enabled", "dataset", "schedule", "retrain", "gate", "fairness", "skew",
              "severity", "partition_by", "cluster_by", "unique_key", "lookback", "incremental_strategy", "on_schema_change"}  # fmt: skip
#: Config keys ``sqlml run`` applies to seeds.
SEED_KEYS = {"schema", "alias", "tags", "enabled", "dataset", "schedule", "column_types", "delimiter"}
#: Config keys that change nothing in the warehouse sqlml builds (documentation, permissions, labels).
IGNORED_KEYS = {"docs", "meta", "persist_docs", "group", "access", "labels", "grants", "quote_columns", "description",
                "contract", "quoting"}  # fmt: skip
#: Config keys whose dbt meaning sqlml does not reproduce, with how the error names them.
UNSUPPORTED_KEYS = {
    "pre_hook": "the pre-hook",
    "post_hook": "the post-hook",
    "database": "the `database` config",
    "project": "the `project` config",
    "sql_header": "the `sql_header` config",
    "full_refresh": "the `full_refresh` config",
    "hours_to_expiration": "the `hours_to_expiration` config",
    "require_partition_filter": "the `require_partition_filter` config",
    "partition_expiration_days": "the `partition_expiration_days` config",
    "kms_key_name": "the `kms_key_name` config",
    "event_time": "the `event_time` config",
    "batch_size": "the `batch_size` config (microbatch)",
    "begin": "the `begin` config (microbatch)",
}
#: The incremental strategy sqlml's incremental build amounts to, by what the config gives.
_STRATEGIES = {(False, False): "append", (False, True): "merge", (True, False): "insert_overwrite", (True, True): "insert_overwrite"}


def folder_config(block: dict, fqn: list[str]) -> dict:
    """The ``+key`` config that ``block`` (dbt_project.yml's ``models:`` or ``seeds:``) gives the node at ``fqn``.

    Args:
        fqn: the resource path: project name, folders under the model (seed) path, node name.
    """
    config: dict = {}
    level = block
    for part in [None, *fqn]:
        level = level if part is None else level.get(part)
        if not isinstance(level, dict):
            break
        merge(config, {name: value for name, value in config_entries(level)})
    return config


def config_entries(level: dict) -> list[tuple[str, object]]:
    """The config entries of one level: ``+key``, and a plain key whose value is not a mapping (a folder's is)."""
    entries = []
    for key, value in level.items():
        key = str(key)
        if key.startswith("+"):
            entries.append((normal(key[1:]), value))
        elif value is not None and not isinstance(value, dict):
            entries.append((normal(key), value))
    return entries


def folders_of(level: dict) -> dict:
    """The folder (or file) entries of one level: plain keys whose value is a mapping."""
    return {str(key): value for key, value in level.items() if not str(key).startswith("+") and isinstance(value, dict)}


def normal(key: str) -> str:
    """``pre-hook`` → ``pre_hook``: dbt accepts both spellings."""
    return key.replace("-", "_")


def merge(config: dict, more: dict) -> dict:
    """``config`` updated with ``more``, tags added up (dbt's merge of a more specific level)."""
    for key, value in more.items():
        if key == "tags":
            config["tags"] = list(dict.fromkeys(as_list(config.get("tags")) + as_list(value)))
        else:
            config[key] = value
    return config


def as_list(value: object) -> list:
    """A config value that may be one string or a list, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def config_problem(key: str, value: object, *, seed: bool = False) -> str | None:
    """What is wrong with one config entry for ``sqlml run`` (the construct, for :func:`unsupported`), or None."""
    key = normal(key)
    if key in UNSUPPORTED_KEYS:
        return UNSUPPORTED_KEYS[key]
    if key in IGNORED_KEYS:
        return "an enforced model contract (`contract: {enforced: true}`)" if key == "contract" and _enforced(value) else None
    if key not in (SEED_KEYS if seed else MODEL_KEYS):
        return f"the config `{key}`"
    if key == "materialized" and value not in tuple(Materialization):
        return f"materialized='{value}'"
    if key == "partition_by" and not isinstance(value, str):
        return "`partition_by` as a mapping (dbt-bigquery's {'field': …, 'data_type': …})"
    if key == "on_schema_change" and value not in (None, "ignore"):
        return f"on_schema_change='{value}'"
    return None


def _enforced(value: object) -> bool:
    return isinstance(value, dict) and bool(value.get("enforced"))


def strategy_problem(config: dict) -> str | None:
    """An ``incremental_strategy`` other than the one sqlml's incremental build amounts to, as a construct."""
    strategy = config.get("incremental_strategy")
    if strategy is None:
        return None
    does = _STRATEGIES[bool(config.get("partition_by")), bool(config.get("unique_key"))]
    if strategy == does or (strategy == "delete+insert" and does == "merge"):
        return None
    return f"incremental_strategy='{strategy}' with {_given(config)} (sqlml's incremental build then does '{does}')"


def _given(config: dict) -> str:
    given = [key for key in ("partition_by", "unique_key") if config.get(key)]
    return " and ".join(given) if given else "neither partition_by nor unique_key"


def check_block(path: Path, root: Path, resource: str, block: dict, project_name: str) -> None:
    """Every config entry of dbt_project.yml's ``models:``/``seeds:`` at any level; a package's block is an error."""
    for name in folders_of(block):
        if name != project_name:
            raise unsupported(path, f"config for the package '{name}' (`{resource}: {name}:`)", root=root,
                              line=yaml_line(path, [resource, name]))  # fmt: skip
    _check_level(path, root, [resource], block, seed=resource == "seeds")


def _check_level(path: Path, root: Path, keys: list[str], level: dict, *, seed: bool) -> None:
    for key, value in level.items():
        if str(key).startswith("+") or (value is not None and not isinstance(value, dict)):
            problem = config_problem(str(key).lstrip("+"), value, seed=seed)
            if problem:
                raise unsupported(path, problem, root=root, line=yaml_line(path, [*keys, key]))
        elif isinstance(value, dict):
            _check_level(path, root, [*keys, key], value, seed=seed)

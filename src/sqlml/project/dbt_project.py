"""Reading a dbt project's ``dbt_project.yml`` for ``sqlml run``.

The keys sqlml applies as dbt does are the resource paths (``model-paths`` …), ``vars`` and the
folder-level config of ``models:`` and ``seeds:`` (see :mod:`.folder_config`); sqlml adds
``dialect`` (how model SQL is read), ``dataset``, ``warehouse``, ``model_store`` and ``schedule``.
Keys that only concern dbt itself (``profile``, ``target-path`` …) are accepted and ignored; keys
for what only dbt runs (hooks, snapshots, dispatch …) are errors that say so
(https://docs.getdbt.com/reference/dbt_project.yml).

Next to a ``sqlml_project.yml``, ``dbt_project.yml`` stays the project: ``sqlml_project.yml`` may
then only add sqlml's own keys (and ``vars``, which win over dbt's), so that ``dbt build`` and
``sqlml run`` read the same models, folders and config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlml.errors import ProjectError
from sqlml.project.folder_config import check_block
from sqlml.project.unsupported import check_project_files, unsupported, yaml_line

#: Role → (the dbt_project.yml key naming its folders, dbt's default).
PATH_KEYS = {
    "models": ("model-paths", ["models"]),
    "seeds": ("seed-paths", ["seeds"]),
    "tests": ("test-paths", ["tests"]),
    "macros": ("macro-paths", ["macros"]),
    "snapshots": ("snapshot-paths", ["snapshots"]),
}
#: sqlml's own project keys, allowed in dbt_project.yml and in a sqlml_project.yml beside it.
SQLML_KEYS = ("dialect", "dataset", "warehouse", "model_store", "schedule")
#: dbt keys that change nothing ``sqlml run`` builds: accepted and ignored.
IGNORED = {"version", "profile", "config-version", "target-path", "clean-targets", "log-path", "packages-install-path",
           "require-dbt-version", "analysis-paths", "docs-paths", "asset-paths", "query-comment", "flags", "dbt-cloud",
           "quoting", "restrict-access", "exposures", "metrics", "semantic-models", "saved-queries", "analyses"}  # fmt: skip
#: dbt keys for what only dbt runs.
UNSUPPORTED = {
    "on-run-start": "the on-run-start hook (`on-run-start:`)",
    "on-run-end": "the on-run-end hook (`on-run-end:`)",
    "snapshots": "snapshot config (`snapshots:`)",
    "dispatch": "macro dispatch (`dispatch:`)",
    "sources": "folder config of sources (`sources:`)",
    "data_tests": "folder config of data tests (`data_tests:`)",
    "tests": "folder config of data tests (`tests:`)",
    "unit_tests": "folder config of unit tests (`unit_tests:`)",
    "functions": "user-defined functions (`functions:`)",
}
_APPLIED = {"name", "vars", "models", "seeds", *(key for key, _ in PATH_KEYS.values())}


@dataclass
class DbtProject:
    """What ``sqlml run`` reads from a dbt_project.yml.

    Attributes:
        settings: the keys sqlml's project loader reads (``name``, ``vars`` and :data:`SQLML_KEYS`).
        paths: role (``models``, ``seeds``, ``tests``, ``macros``, ``snapshots``) → folders.
        blocks: ``models`` / ``seeds`` → that folder-config block.
    """

    settings: dict
    paths: dict[str, list[Path]] = field(default_factory=dict)
    blocks: dict[str, dict] = field(default_factory=dict)


def read_dbt_project(path: Path, settings: dict, beside: dict | None = None) -> DbtProject:
    """Check and read a dbt_project.yml's ``settings``; ``beside`` is a sqlml_project.yml next to it.

    Raises:
        ProjectError: for a key sqlml does not run (naming it and its line), a package's config,
            packages in packages.yml, snapshot files, or a sqlml_project.yml that sets dbt's keys.
    """
    root, name = path.parent, str(settings["name"])
    for key in settings:
        if key in UNSUPPORTED or key not in _APPLIED | IGNORED | set(SQLML_KEYS):
            raise unsupported(path, UNSUPPORTED.get(key, f"the key `{key}`"), root=root, line=yaml_line(path, [key]))
    blocks = {resource: settings.get(resource) or {} for resource in ("models", "seeds")}
    for resource, block in blocks.items():
        if not isinstance(block, dict):
            raise ProjectError(f"dbt_project.yml: `{resource}:` must be a mapping.", path=str(path))
        check_block(path, root, resource, block, name)
    paths = {role: [root / f for f in _folders(path, settings.get(key, default), key)] for role, (key, default) in PATH_KEYS.items()}
    check_project_files(root, paths["snapshots"], paths["models"])
    read = {"name": name, "vars": project_vars(settings.get("vars"), name), **{k: settings[k] for k in SQLML_KEYS if k in settings}}
    return DbtProject(_with_sqlml_file(read, beside or {}, root), paths, blocks)


def _folders(path: Path, folders: object, key: str) -> list[str]:
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise ProjectError(f"dbt_project.yml: `{key}` must be a list of folders, not {folders!r}.", path=str(path),
                           hint=f"Write {key}: [a_folder, another_folder].")  # fmt: skip
    return folders


def project_vars(given: dict | None, name: str) -> dict:
    """dbt's ``vars``: the project-wide ones, then those scoped to this project (``vars: {<name>: {…}}``) over them."""
    given = dict(given or {})
    scoped = given.pop(name, None)
    return {**given, **scoped} if isinstance(scoped, dict) else ({**given, name: scoped} if scoped is not None else given)


def _with_sqlml_file(settings: dict, beside: dict, root: Path) -> dict:
    """A sqlml_project.yml beside dbt_project.yml adds sqlml's keys; its ``vars`` win; dbt's keys there are an error."""
    for key, value in beside.items():
        if key == "name" and str(value) == settings["name"]:
            continue
        if key not in (*SQLML_KEYS, "vars"):
            raise ProjectError(
                f"sqlml_project.yml sets `{key}` next to dbt_project.yml, which is the project's file.",
                path=str(root / "sqlml_project.yml"),
                hint=f"Keep only sqlml's keys ({', '.join(SQLML_KEYS)}, vars) in sqlml_project.yml; set `{key}` in dbt_project.yml.",
            )  # fmt: skip
    return {**settings, **{k: v for k, v in beside.items() if k != "vars"}, "vars": {**settings["vars"], **(beside.get("vars") or {})}}

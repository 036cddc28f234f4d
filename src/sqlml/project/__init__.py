"""SQL projects: a folder of SQL files run in dependency order, like a dbt project.

``load_project`` reads ``sqlml_project.yml`` and the files around it; :class:`Runner` runs the
nodes (seeds, data models, ML models, scripts) and their tests; :mod:`.scheduler` runs them on
their cron schedules.
"""

from sqlml.project.config import find_project_dir, load_project
from sqlml.project.runner import Runner, RunOptions

__all__ = ["RunOptions", "Runner", "find_project_dir", "load_project"]

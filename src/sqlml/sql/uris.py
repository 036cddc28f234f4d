"""Whether a uri names a local file or remote (cloud) storage: the one rule of every statement
that reads or writes files — EXPORT DATA, LOAD DATA, EXPORT MODEL and CREATE MODEL's ``model_path``.

sqlml runs on one machine and reaches no cloud storage, so a uri is a local path, written as it is
or with BigQuery's ``file://`` prefix, or it is refused. BigQuery's own uris are ``gs://…``; any
other ``scheme://`` (``s3://``, ``https://``, ``hdfs://`` …) names remote storage as well. Each
statement words its refusal itself; this module only decides.
https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements#export_data_statement
"""

from __future__ import annotations

#: The prefix that marks a uri as a local path (``file:///data/x.csv`` is ``/data/x.csv``).
FILE_SCHEME = "file://"


def local_path_of(uri: str) -> str | None:
    """The local path ``uri`` names, or None when it names remote storage.

    Args:
        uri: a uri or path as written in the statement.

    Returns:
        ``uri`` itself, or what follows its ``file://`` prefix; None for any other ``scheme://``.
    """
    if uri.startswith(FILE_SCHEME):
        return uri[len(FILE_SCHEME) :]
    return None if "://" in uri else uri

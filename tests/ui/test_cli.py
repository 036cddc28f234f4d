"""The `sqlml ui` command: its options, a real server process, and a `sqlml query` that never
imports it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from sqlml.cli.main import cli
from tests.ui.conftest import TOKEN


def test_the_ui_command_lists_its_options_with_loopback_defaults():
    result = CliRunner().invoke(cli, ["ui", "--help"])
    assert result.exit_code == 0
    for option in ("--warehouse", "--models", "--host", "--port", "--token-file", "--project"):
        assert option in result.output
    assert "[default: 127.0.0.1]" in result.output and "[default: 8765]" in result.output


def test_a_query_imports_neither_the_ui_nor_its_web_stack(tmp_path):
    script = (
        "import sys\nfrom sqlml.cli.main import main\n"
        f"sys.argv = ['sqlml', 'query', 'SELECT 1', '--warehouse', ':memory:', '--models', {str(tmp_path / 'm')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "import json\nprint(json.dumps(sorted(sys.modules)))"
    )
    modules = set(json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()[-1]))
    assert "sqlml.connection" in modules  # the query ran
    assert sorted(m for m in modules if m.split(".")[0] in ("fastapi", "starlette", "jinja2") or m.startswith("sqlml.ui")) == []


@pytest.mark.slow
def test_sqlml_ui_serves_the_pages_read_only_or_with_its_token_file(tmp_path):
    folder = tmp_path / "wh"
    subprocess.run([sys.executable, "-m", "sqlml", "query", "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x",
                    "--warehouse", str(folder), "--models", str(tmp_path / "models")], check=True, capture_output=True)  # fmt: skip
    (tmp_path / "token").write_text(TOKEN + "\n")
    for extra, allowed in (([], False), (["--token-file", str(tmp_path / "token")], True)):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "sqlml", "ui", "--warehouse", str(folder), "--models", str(tmp_path / "models"), "--port", str(port), *extra]
        server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = httpx.get(base + "/datasets", timeout=5)
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            assert page.status_code == 200 and '<a href="/tables/ds/t">t</a>' in page.text
            write = httpx.post(base + "/sql", data={"sql": "INSERT INTO ds.t VALUES (2)"}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            assert write.status_code == (200 if allowed else 403)
        finally:
            server.terminate()
            server.wait(30)
        assert f"sqlml ui on http://127.0.0.1:{port} ({'changes need the token' if allowed else 'read-only'})" in server.stderr.read()

"""The README's example runs as written (against the loopback provider)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

from conftest import OpenAIServer

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_example_runs(server: OpenAIServer, tmp_path: pathlib.Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = blocks[0]
    code_lines = [line for line in example.splitlines() if line.strip()]
    assert len(code_lines) <= 10, "keep the README example short"
    server.reply = lambda body: "rivers run to the sea"
    env = dict(os.environ, OPENAI_API_KEY="test", OPENAI_BASE_URL=server.base_url)
    r = subprocess.run([sys.executable, "-c", example], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("run_started")
    assert any(line.startswith("token_delta ") for line in lines)
    assert lines[-1] == "completed {'input_tokens': 20, 'output_tokens': 30}"
    assert (tmp_path / "poems.db").exists()
    assert "A short poem about rivers" in server.prompts()[0]

"""The stubs: mypy --strict accepts typed code using the API and rejects misuse."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent


def mypy(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
                          capture_output=True, text=True, cwd=str(HERE))


@pytest.fixture(autouse=True)
def need_mypy() -> None:
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.skip("mypy is not installed")


def test_typed_usage_passes_strict_mypy() -> None:
    r = mypy(HERE / "typed_usage.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_misuse_is_reported(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import lekhika\n"
        "lk = lekhika.open_blocking()\n"
        "lk.estimate(42)\n"
        "x: int = lk.validate({})[\"nodes\"]\n"
        "lk.estimate({}, None, providr=\"openai\")\n"
    )
    r = mypy(bad)
    assert r.returncode == 1
    assert 'Argument 1 to "estimate"' in r.stdout and "incompatible types in assignment" in r.stdout.lower()
    assert '"providr"' in r.stdout, r.stdout


def test_package_ships_py_typed() -> None:
    import lekhika

    assert (pathlib.Path(lekhika.__file__).parent / "py.typed").exists()
    assert (pathlib.Path(lekhika.__file__).parent / "_lekhika.pyi").exists()

"""``pip install .`` into a fresh virtual environment gives the ``portscan-lab`` command.

The project keeps its run-from-the-folder layout (``scanner/``, ``lessons/``, ``main.py``);
``pyproject.toml``'s ``[project]`` table makes the same code installable.  The install runs
from a copy of the tracked files, so pip's build folders never land in the checkout, and
the command then runs from an unrelated folder: only what was installed can help it.
Needs ``venv`` (Debian: python3-venv) and pip's access to PyPI (setuptools, colorama).
"""

import os
import shutil
import subprocess
import sys

import pytest

from lessons import catalog
from scanner.version import __version__
from tests.conftest import ROOT, program_env

pytestmark = pytest.mark.slow
TRACKED = ("scanner", "lessons", "main.py", "pyproject.toml", "README.md", "requirements.txt")


def _copy_project(target) -> None:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in TRACKED:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, target / name, ignore=skip)
        else:
            shutil.copy(source, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, path of its portscan-lab command)."""
    base = tmp_path_factory.mktemp("install")
    source, venv = base / "source", base / "venv"
    source.mkdir()
    _copy_project(source)
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        pytest.skip(f"cannot make a virtual environment here (Debian: apt-get install python3-venv): "
                    f"{made.stderr.strip()[-200:]}")
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           str(source)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and ("Could not find a version" in done.stderr or "NewConnectionError" in done.stderr
                                 or "Temporary failure in name resolution" in done.stderr):
        pytest.skip(f"pip cannot reach a package index here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    command = venv / ("Scripts" if os.name == "nt" else "bin") / "portscan-lab"
    assert command.exists(), sorted(os.listdir(command.parent))
    return venv, command


def run(command, *args, home, cwd, language="en"):
    environment = program_env(home, LANGUAGE=language)
    environment.pop("PYTHONPATH", None)
    return subprocess.run([str(command), *args], cwd=cwd, capture_output=True, text=True, env=environment,
                          timeout=120)


def test_pip_install_gives_the_portscan_lab_command(installed, tmp_path):
    _venv, command = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run(command, "--version", home=tmp_path / "home", cwd=elsewhere)
    assert done.returncode == 0 and done.stdout.strip() == f"portscan-lab {__version__}", done.stderr
    done = run(command, "scan", "127.0.0.1", "-p", "1-50", home=tmp_path / "home", cwd=elsewhere)
    assert done.returncode == 0 and "50 ports" in done.stdout, done.stderr
    done = run(command, "--lang", "id", "lesson", "3", home=tmp_path / "home", cwd=elsewhere)
    title = catalog.load_lesson(catalog.lesson_ids("id")[2], "id").title
    assert done.returncode == 0 and title in done.stdout, done.stderr
    done = run(command, "lessons", home=tmp_path / "home", cwd=elsewhere)
    assert "portscan-lab lesson" in done.stdout and "main.py" not in done.stdout   # hints name the command
    done = run(command, "scan", "127.0.0.1", "--timout", "1", home=tmp_path / "home", cwd=elsewhere)
    assert done.returncode == 2 and "portscan-lab: " in done.stderr and "--timeout?" in done.stderr


def test_every_content_file_is_installed(installed):
    """Package data covers lessons/content/** at any depth: a new folder needs no packaging change."""
    venv, _command = installed
    probe = "import lessons, os; print(os.path.dirname(lessons.__file__))"
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    where = subprocess.run([str(python), "-I", "-c", probe], capture_output=True, text=True, timeout=60,
                           cwd=str(venv)).stdout.strip()
    assert where and not where.startswith(ROOT), where
    source = os.path.join(ROOT, "lessons", "content")
    for folder, dirs, names in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        relative = os.path.relpath(folder, source)
        for name in names:
            assert os.path.exists(os.path.join(where, "content", relative, name)), os.path.join(relative, name)

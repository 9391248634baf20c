"""``portscan-lab.pyz``: the whole program in one file, run from a folder that holds nothing else.

The archive is built once (``tools/build_pyz.py``) and copied *alone* into an empty folder,
so nothing from the checkout can help it: every command must find its code and its texts
inside the zip (``importlib.resources``).  After each run the folder must still hold only the
archive: nothing extracted, nothing written beside it.  Also: with colorama absent from the
interpreter (``-I -S``: no site-packages; the archive carries its own copy), an archive built
without colorama, and the folder read-only for the user running it.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from lessons import catalog
from scanner.version import __version__
from tests.conftest import ROOT, program_env
from tests.servers import Listener

sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_pyz  # noqa: E402  (tools/ is not a package)

pytestmark = pytest.mark.slow
NAME = "portscan-lab.pyz"
TEXTS = {"en": {"walk": "Guided scan", "lab": "Practice lab", "score": "Score:"},
         "id": {"walk": "Pindai terpandu", "lab": "Lab latihan", "score": "Skor:"}}
for _language, _texts in TEXTS.items():   # lesson 3's title, as the checkout has it
    _texts["lesson3"] = catalog.load_lesson(catalog.lesson_ids(_language)[2], _language).title


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("built")
    with_colorama = build_pyz.build(str(folder / "with" / NAME))
    without = build_pyz.build(str(folder / "without" / NAME), with_colorama=False)
    bytecode = build_pyz.build(str(folder / "bytecode" / NAME), bytecode=True)
    return {"with": with_colorama, "without": without, "bytecode": bytecode}


@pytest.fixture
def alone(archives, tmp_path):
    """The archive alone in an empty folder; a separate home for progress and settings."""
    folder = tmp_path / "only-the-pyz"
    folder.mkdir()
    shutil.copy(archives["with"]["path"], folder / NAME)
    yield folder
    assert sorted(os.listdir(folder)) == [NAME], "something was written beside the archive"


def run(folder, *args, home, language="en", python=(sys.executable,), stdin="", **extra):
    environment = program_env(home, LANGUAGE=language, PYTHONDONTWRITEBYTECODE="", **extra)
    environment.pop("PYTHONPATH", None)   # nothing from the checkout may help
    return subprocess.run([*python, NAME, *args], cwd=folder, input=stdin, capture_output=True, text=True,
                          env=environment, timeout=120)


def test_the_archive_is_small_and_holds_no_tests_or_caches(archives):
    import zipfile

    assert archives["with"]["bytes"] < 1024 * 1024
    assert archives["with"]["colorama"] and not archives["without"]["colorama"]
    with zipfile.ZipFile(archives["with"]["path"]) as archive:
        names = archive.namelist()
    assert "__main__.py" in names and "lessons/content/en/ui.json" in names and "colorama/__init__.py" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/") or "/tests/" in name]
    assert any(name.startswith("lessons/content/id/") and name.endswith(".quiz") for name in names)


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_command_runs_from_the_archive_alone(alone, tmp_path, language):
    home = tmp_path / "home"
    texts = TEXTS[language]
    lang = ["--lang", language]

    done = run(alone, "--version", home=home)
    assert done.returncode == 0 and done.stdout.strip() == f"portscan-lab {__version__}"
    assert run(alone, "scan", "--version", home=home).stdout.strip() == f"portscan-lab {__version__}"

    with Listener() as listener:
        done = run(alone, *lang, "scan", "127.0.0.1", "-p", f"1-200,{listener.port}", home=home)
        assert done.returncode == 0, done.stderr
        assert f"{listener.port}/tcp" in done.stdout and "Traceback" not in done.stderr

        walk = "".join(line + "\n" for line in ["1", "127.0.0.1", str(listener.port), "0.5", "y", "", "0"])
        done = run(alone, *lang, stdin=walk, home=home)
        assert done.returncode == 0, done.stderr
        assert texts["walk"] in done.stdout and "s.settimeout(0.5)" in done.stdout
        assert f"{listener.port}/tcp" in done.stdout

    done = run(alone, *lang, "lessons", home=home)
    assert done.returncode == 0 and "intro" in done.stdout and "packet-capture" in done.stdout
    assert "python3 portscan-lab.pyz lesson" in done.stdout and "main.py" not in done.stdout   # hints as started
    done = run(alone, *lang, "lesson", "3", home=home)
    assert done.returncode == 0 and texts["lesson3"] in done.stdout

    done = run(alone, *lang, "quiz", "intro", stdin="a\n" * 10, home=home, PORTSCAN_LAB_SEED="1")
    assert done.returncode == 0 and texts["score"] in done.stdout, done.stdout[-500:]
    assert (home / "progress.json").exists()   # progress goes to the home folder, not beside the archive

    done = run(alone, *lang, "scan", "127.0.0.1", "--timout", "1", home=home)
    assert done.returncode == 2 and "--timeout?" in done.stderr and "python3 portscan-lab.pyz" in done.stderr


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_lab_starts_and_stops_from_the_archive(alone, tmp_path, language):
    environment = program_env(tmp_path / "home", LANGUAGE=language)
    child = subprocess.Popen([sys.executable, NAME, "--lang", language, "lab", "--base-port", "0"], cwd=alone,
                             env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline()
        assert TEXTS[language]["lab"] in first, first + child.stderr.read()
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode in (0, 130) and "Traceback" not in err, err


@pytest.mark.parametrize("language", ["en", "id"])
def test_exercise_starters_go_to_the_workspace_not_beside_the_archive(alone, tmp_path, language):
    home = tmp_path / "home"
    if "exercise" not in run(alone, "--help", home=home).stdout:
        pytest.skip("this build has no exercise command yet (issue 16)")
    for command in (["exercises"], ["exercise", "1"]):
        done = run(alone, "--lang", language, *command, stdin="q\n", home=home)
        assert "Traceback" not in done.stderr, (command, done.stderr)
    starters = list((home / "exercises").glob("*.py"))   # the workspace: under the home folder
    assert starters, sorted(str(path) for path in home.rglob("*"))
    # A worked solution in the learner's file: the check runs it in a child process, from the archive too.
    solution = os.path.join(ROOT, "lessons", "content", "exercises", "01-resolve", "solution.py")
    if len(starters) == 1 and os.path.exists(solution):
        shutil.copy(solution, starters[0])
        done = run(alone, "--lang", language, "exercise", "1", "--check", home=home)
        assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout, done.stdout + done.stderr
    # the fixture checks that nothing was written beside the archive


def test_every_command_of_this_build_answers_from_the_archive(alone, tmp_path):
    """Commands added later (challenges...) included: each one's --help, and the listing ones run."""
    from lessons.ui import cli
    from lessons.ui.i18n import Translator

    home = tmp_path / "home"
    for command in cli.build_parser(Translator("en")).command_parsers:
        done = run(alone, command, "--help", home=home)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)
    for listing in ("challenges", "exercises"):
        if listing in cli.build_parser(Translator("en")).command_parsers:
            done = run(alone, listing, stdin="q\n", home=home)
            assert "Traceback" not in done.stderr, (listing, done.stderr)


def test_colorama_absent_from_the_interpreter(archives, alone, tmp_path):
    """-I -S: no site-packages at all, so colorama can only come from inside the archive."""
    home = tmp_path / "home"
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import colorama; "
             "print(colorama.__file__)")
    found = subprocess.run([sys.executable, "-I", "-S", "-c", probe, NAME], cwd=alone, capture_output=True,
                           text=True, timeout=60)
    assert found.returncode == 0 and NAME in found.stdout, found.stderr
    for language in ("en", "id"):
        done = run(alone, "--lang", language, "lesson", "3", home=home, python=(sys.executable, "-I", "-S"))
        assert done.returncode == 0 and TEXTS[language]["lesson3"] in done.stdout, done.stderr
        done = run(alone, "--lang", language, "scan", "127.0.0.1", "-p", "1-50", home=home,
                   python=(sys.executable, "-I", "-S"))
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def test_an_archive_with_bytecode_runs_from_its_compiled_modules(archives, tmp_path):
    """--bytecode: .pyc files (docstrings left out) beside the sources; this Python loads them."""
    import zipfile

    with zipfile.ZipFile(archives["bytecode"]["path"]) as archive:
        names = archive.namelist()
    assert "lessons/ui/cli.pyc" in names and not [n for n in names if n.startswith("lessons/content/") and
                                                  n.endswith(".pyc")]
    folder = tmp_path / "compiled"
    folder.mkdir()
    shutil.copy(archives["bytecode"]["path"], folder / NAME)
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import lessons.ui.cli as c; print(c.__file__)"
    found = subprocess.run([sys.executable, "-I", "-c", probe, NAME], cwd=folder, capture_output=True, text=True,
                           timeout=60)
    assert found.stdout.strip().endswith("cli.pyc"), found.stderr
    for language in ("en", "id"):
        done = run(folder, "--lang", language, "lesson", "3", home=tmp_path / "home")
        assert done.returncode == 0 and TEXTS[language]["lesson3"] in done.stdout, done.stderr
    done = run(folder, "scan", "127.0.0.1", "-p", "1-20", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(folder)) == [NAME]


def test_an_archive_built_without_colorama_runs_in_plain_text(archives, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    shutil.copy(archives["without"]["path"], folder / NAME)
    python = (sys.executable, "-I", "-S")
    for language in ("en", "id"):
        done = run(folder, "--lang", language, "lessons", home=tmp_path / "home", python=python)
        assert done.returncode == 0 and "intro" in done.stdout and "\x1b[" not in done.stdout, done.stderr
    assert sorted(os.listdir(folder)) == [NAME]


def _unprivileged_python():
    """A Python another user may run (the test's own may live in root's home), or None."""
    for candidate in (sys.executable, shutil.which("python3"), "/usr/bin/python3", "/usr/local/bin/python3"):
        if candidate and os.path.exists(candidate):
            try:
                probe = subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 9)"],
                                       capture_output=True, timeout=30, preexec_fn=_become_nobody)
            except OSError:   # e.g. a Python inside root's home
                continue
            if probe.returncode == 0:
                return candidate
    return None


def _become_nobody():
    os.setgid(65534)
    os.setuid(65534)


def test_a_read_only_folder(archives, tmp_path):
    """The folder (and the archive) read-only for whoever runs it; root ignores permissions, so
    as root the program runs as the user nobody."""
    run_as = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        run_as = _become_nobody
        python = _unprivileged_python()
        if python is None:
            pytest.skip("no Python 3.9+ that the user nobody may run")
    else:
        python = sys.executable
    base = tempfile.mkdtemp(prefix="pyz-read-only-")   # not under pytest's 0700 folder: nobody must reach it
    try:
        os.chmod(base, 0o755)
        folder, home = os.path.join(base, "ro"), os.path.join(base, "home")
        os.mkdir(folder)
        os.mkdir(home)
        os.chmod(home, 0o777)
        shutil.copy(archives["with"]["path"], os.path.join(folder, NAME))
        os.chmod(os.path.join(folder, NAME), 0o444)
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        for language in ("en", "id"):
            environment = program_env(home, LANGUAGE=language, HOME=home)
            environment.pop("PYTHONPATH", None)
            for args, stdin in ((["scan", "127.0.0.1", "-p", "1-200"], ""), (["lesson", "3"], ""),
                                ([], "1\n127.0.0.1\n1-20\n0.5\ny\n\n0\n"), (["quiz", "intro"], "a\n" * 10)):
                done = subprocess.run([python, NAME, "--lang", language, *args], cwd=folder, input=stdin,
                                      capture_output=True, text=True, env=environment, timeout=120,
                                      preexec_fn=run_as)
                assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        assert os.listdir(folder) == [NAME]
    finally:
        os.chmod(os.path.join(base, "ro"), 0o755)
        shutil.rmtree(base, ignore_errors=True)

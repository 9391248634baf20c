"""Large numbers on screen: grouped the way the learner's language groups them."""

import os
import subprocess
import sys

import pytest

from lessons.ui.i18n import Translator
from scanner.errors import TargetError
from scanner.inputs import parse_targets
from tests.conftest import ROOT, program_env


def run_program(home, *args, language="en"):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], capture_output=True,
                          env=program_env(home, PYTHONIOENCODING="utf-8", LANGUAGE=language), timeout=60)


def refusal(parse, text):
    with pytest.raises(TargetError) as caught:
        parse(text)
    return caught.value


# 5. Indonesian groups thousands with a dot: 131.072, not 131,072.
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_indonesian_counts_group_thousands_with_dots(isolated_home):
    error = refusal(lambda text: parse_targets(text, max_hosts=65536), "127.0.0.0/16,127.1.0.0/16")
    assert "131,072" in str(error) and "65,536" in str(error)
    indonesian = Translator("id").error(error)
    assert "131.072" in indonesian and "65.536" in indonesian and "131,072" not in indonesian
    assert "131,072" in Translator("en").error(error)
    too_many = Translator("id").error(refusal(parse_targets, "127.0.0.0/24,127.0.1.0/20"))
    assert "4.352 alamat" in too_many and "lebih dari 4.096" in too_many and "--max-hosts 4352" in too_many

    result = run_program(isolated_home, "scan", "127.0.0.0/16,127.1.0.0/16", "--max-hosts", "65536", "-p", "1",
                         language="id")
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 2 and "131.072" in output and "65.536" in output, output


def test_grouping_leaves_what_was_typed_alone():
    assert Translator("id").grouped(131072) == "131.072" and Translator("en").grouped(131072) == "131,072"
    assert Translator("id").grouped("4,097+") == "4.097+"
    assert Translator("id").grouped("127.0.0.1,127.0.0.2") == "127.0.0.1,127.0.0.2"

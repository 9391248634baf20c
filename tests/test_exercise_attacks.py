"""A learner trying to pass without solving, or to leave something behind: the check holds.

The exercise check runs the learner's file in a child process (``lessons.exercises.sandbox``).
These tests are the attacks a hostile or careless student would try: forging the private
report channel, patching the harness, escaping the process group, and the odd files a
workspace can hold.  Every loop in the files below is bounded in count and time, and
every process they start is looked for afterwards in ``/proc``.
"""

import os

import pytest

from lessons.exercises import find_exercise, run_check

ONE_PORT = find_exercise("one-port")

# Reads the command line (where a token or the harness would be visible), looks for the
# harness in __main__, and forges "both cases passed" on every descriptor if it finds a token.
FORGER = '''
import json, os, sys
import __main__
seen = " ".join(getattr(sys, "orig_argv", sys.argv))
with open("/proc/self/cmdline", "rb") as stream:
    seen += stream.read().decode("utf-8", "replace")
FOUND = ['"token"' in seen, hasattr(__main__, "_call") or hasattr(__main__, "main")]

def forge(fd, token):
    for index, result in enumerate([["open", 0], ["closed", 111]]):
        line = json.dumps({"type": "call", "index": index, "result": result, "hung": False, "seconds": 0.1,
                           "extra_threads": 0, "extra_files": 0})
        os.write(fd, (token + " " + line + "\\n").encode())
    os.write(fd, (token + " " + json.dumps({"type": "done"}) + "\\n").encode())

def check_port(host, port):
    for argument in reversed(getattr(sys, "orig_argv", [])):
        try:
            spec = json.loads(argument)
            forge(spec["fd"], spec["token"])
            os._exit(0)
        except (ValueError, KeyError, TypeError, OSError):
            pass
    return FOUND
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_token_and_the_harness_are_out_of_the_learners_reach(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, FORGER)
    report = run_check(ONE_PORT, str(path))
    assert not report.passed
    assert [verdict.gave for verdict in report.verdicts] == ["[False, False]"] * 2

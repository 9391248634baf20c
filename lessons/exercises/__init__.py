"""Write your own scanner: graded exercises that run the learner's code against private targets.

The runner, without any screen: the front end lives in the program's commands and screens.

``catalog``    the exercises as data (``lessons/content/exercises/<NN-id>/``), by number or id
``workspace``  the learner's own file per exercise, written once from the starter, never overwritten
``targets``    a private block of loopback ports whose answers are known (open, closed, filtered, ...)
``sandbox``    running untrusted code: child process, own process group, limits, cleaned output
``cleanup``    ending what the child left behind, even a daemon that left its process group
``harness``    the child side (run as a script, never imported): load their file, call, report
``checks``     one check: targets up, child run, each result compared, verdicts as data
"""

from lessons.exercises.catalog import Exercise, all_exercises, find_exercise
from lessons.exercises.checks import CheckReport, Verdict, run_check

__all__ = ["Exercise", "all_exercises", "find_exercise", "CheckReport", "Verdict", "run_check"]

"""portscan-lab's teaching side: the lessons, the practice lab, and the program the learner uses.

The ``scanner`` package does the networking and never prints.  This package turns it
into a lesson: lessons and quizzes are data files in ``lessons/content/<lang>/`` (one per
lesson per language), found by ``catalog``, shown by a small renderer (``render``) and
checked by the quiz model (``quiz``); ``lab/`` is the practice lab, a known target to scan;
``ui/`` is the interactive program (the command line, the ``App`` shell, its commands and
screens), which alone reads from and writes to the learner.
"""

"""portscan-lab's teaching side: everything the learner sees and types.

The ``scanner`` package does the networking and never prints.  This package turns it
into a lesson: lessons are data files in ``lessons/content/<lang>/`` (one per lesson per
language) shown by a small renderer (``render``); ``i18n`` holds every on-screen string in
English and Bahasa Indonesia; ``menu`` is the guided walkthrough; ``cli`` the one-line
commands; ``terminal`` the injectable input/output that lets tests script it all.
"""

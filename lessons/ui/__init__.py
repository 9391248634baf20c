"""The interactive program: everything the learner sees and types.

Shared services live here (terminal, i18n, pager, output, reports, progress, session);
``commands/`` holds one module per command-line command and ``screens/`` one per menu screen.
Every screen and command is handed the one ``App`` (``app.py``).
"""

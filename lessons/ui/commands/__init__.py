"""The command-line commands, one module each: ``python3 main.py <command>``."""

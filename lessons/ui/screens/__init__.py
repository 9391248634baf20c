"""The menu's screens, one module each; every screen is a function handed the ``App``."""

""""Show the code": the box that names the engine lesson."""

import io

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import code
from lessons.ui.terminal import Environment


def scripted(language="en", lines=()):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, stderr=stdout,
                      colour=False, language=language)
    return App(env, Translator(language)), stdout


def test_show_the_code_names_the_engine_lesson_by_number_and_title_in_the_learners_language():
    from lessons import catalog

    for language, title in (("en", "Inside this scanner"), ("id", "Di dalam pemindai ini")):
        menu, out = scripted(language)
        code.show_code(menu, ["s.settimeout(0.5)"])
        number = catalog.lesson_ids(language).index("scanner-internals") + 1
        assert f"{number}, '{title}')" in out.getvalue()
        assert "'scanner-internals'" not in out.getvalue()

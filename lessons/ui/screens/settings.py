"""The settings screen: language, colours, presenter mode, and resetting progress.

Settings are saved with the learner's progress, so the next start remembers them.
Command-line flags (``--lang``, ``--no-color``, ``--presenter``) still win for one run.
"""

from __future__ import annotations

from lessons.ui.consent import is_yes
from lessons.ui.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, load_strings, normalise_language
from lessons.ui.progress import store
from lessons.ui.terminal import colour_wanted
from scanner.errors import clip


def settings_menu(app) -> None:
    env = app.env
    while True:
        tr = app.tr
        on, off = tr.t("settings.on"), tr.t("settings.off")
        rows = [("1", tr.t("settings.language", value=LANGUAGE_NAMES[tr.language])),
                ("2", tr.t("settings.colour", value=on if env.colour else off)),
                ("3", tr.t("settings.presenter", value=on if env.presenter else off)),
                ("4", tr.t("settings.reset")),
                ("5", tr.t("settings.banners", value=on if store().setting("banners", False) else off)),
                ("0", tr.t("settings.back"))]
        choice = app.choose(tr.t("settings.title"), rows)
        if choice in ("", "0", "q", "b"):
            return
        if choice == "1":
            choose_language(app)
        elif choice == "2":
            wanted = not env.colour
            store().set_setting("colour", wanted)
            # The learner's wish, but never against NO_COLOR or into a pipe or file.
            env.colour = wanted and colour_wanted(env.stdout)
            if wanted and not env.colour:
                env.write(tr.t("settings.colour_unavailable"), "hint")
        elif choice == "5":
            store().set_setting("banners", not store().setting("banners", False))
        elif choice == "3":
            env.presenter = not env.presenter
            store().set_setting("presenter", env.presenter)
        elif choice == "4":
            if is_yes(tr, app.ask(tr.t("settings.reset_confirm"))):
                store().reset()
                env.write(tr.t("settings.reset_done"), "ok")
            else:
                env.write(tr.t("settings.reset_kept"), "hint")
        else:
            env.error(tr.t("menu.unknown_choice", choice=clip(choice)))


def choose_language(app) -> None:
    tr = app.tr
    names = ", ".join(f"{code} = {LANGUAGE_NAMES[code]}" for code in LANGUAGES)
    while True:
        answer = app.ask(tr.t("settings.language_question", choices=names))
        if not answer:
            return
        try:
            language = normalise_language(answer)
        except ValueError:
            app.env.write(tr.t("cli.bad_language", given=clip(answer), choices=", ".join(LANGUAGES)), "error")
            continue
        app.tr = Translator(language)
        app.env.language = language
        store().set_setting("language", language)
        app.env.write(app.tr.t("settings.language_set", name=LANGUAGE_NAMES[language]), "ok")
        return


def first_run_language(env, guess: str) -> str:
    """Ask once, on a terminal, when nothing says which language the learner reads.

    LANG=C.UTF-8 (many containers and lab machines) names no language, and an
    Indonesian learner would otherwise never learn that Bahasa Indonesia is here.
    The answer is saved, so the question comes only on the first run."""
    if not env.on_screen:
        return guess
    strings = load_strings(guess)
    prompt = strings.get("language.choose", "1/2: ")
    for _attempt in range(2):
        answer = env.read_line(prompt)
        if answer is None:   # Ctrl+D: the menu will see the end of input too
            return guess
        answer = answer.strip().lower()
        if answer in ("", "1"):
            language = "en"
        elif answer == "2":
            language = "id"
        else:
            try:
                language = normalise_language(answer)
            except ValueError:   # both languages: we do not know yet which one the learner reads
                env.write_wrapped(strings["language.unclear"].format(answer=clip(answer)), "error")
                continue
        store().set_setting("language", language)
        return language
    if guess == "en":
        env.write_wrapped(strings["language.fallback"], "hint")
    return guess

"""Words on screen: one form of a word, no "port(s)"."""



def test_no_screen_text_says_port_s_or_probe_s():
    import json
    import os

    from tests.conftest import ROOT

    for language in ("en", "id"):
        with open(os.path.join(ROOT, "lessons", "content", language, "ui.json"), encoding="utf-8") as handle:
            strings = json.load(handle)
        assert not [key for key, value in strings.items() if "(s)" in value], language

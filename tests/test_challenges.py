"""Challenges with a fixed seed: right answers pass, each wrong answer gets its reason, the key
comes only after the last try, and a handed-in report is graded port by port with the reason
for what it missed.  The end-to-end tests run the real target on loopback and scan it with the
real scanner (``main.py scan``), as a learner in a second terminal would."""

import io
import json
import socket
import subprocess
import sys

import pytest

from lessons.lab.challenges import draw
from lessons.lab.challenges.grading import AnswerError, QuestionRun, correct
from lessons.lab.challenges.plan import CHALLENGE_COUNT, TRIES, realise
from lessons.lab.challenges.reports import grade_report
from lessons.lab.challenges.target import ChallengeTarget, preferred_octet, report_truth
from lessons.ui.progress import store
from tests.conftest import ROOT, program_env

SEED = 7
BLOCK = "10.213.99."


def address_of(number):
    return f"{BLOCK}{number}"


def question(plan, kind):
    return next(q for q in plan.questions if q.kind == kind)


def keys(verdict):
    return [explanation.key for explanation in verdict.explanations]


def test_the_same_seed_draws_the_same_target_and_another_seed_another():
    assert draw(2, SEED) == draw(2, SEED)
    assert draw(2, SEED).hosts != draw(2, SEED + 1).hosts
    for number in range(1, CHALLENGE_COUNT + 1):
        plan = draw(number, SEED)
        ports = [p.port for h in plan.hosts for p in h.ports if p.protocol == "tcp"]
        assert len(ports) == len(set(ports)) and all(plan.low <= p <= plan.high for p in ports)
        assert plan.questions


def test_six_challenges_from_one_host_to_a_network_with_a_filtered_host_and_an_unusual_service():
    assert CHALLENGE_COUNT >= 6
    network = draw(6, SEED)
    assert network.network and {h.role for h in network.hosts} == {"up", "down", "filtered"}
    odd = question(network, "service_on_port")
    assert network.host(odd.host).port(odd.port).service in ("ssh", "ftp", "db")


def test_right_answers_pass_first_time():
    plan = draw(2, SEED)
    for q in plan.questions:
        right = correct(q, plan)
        text = {"open_ports": lambda r: ", ".join(map(str, r)), "filtered_port": str,
                "filtered_how": lambda r: "1"}[q.kind](right)
        verdict = QuestionRun(q, plan, address_of).answer(text)
        assert verdict.right and verdict.key is None and verdict.hint is None


def test_each_kind_of_wrong_port_answer_gets_its_own_reason():
    plan = draw(2, SEED)
    host = plan.hosts[0]
    by_how = {p.how: p.port for p in host.ports}
    opened = correct(question(plan, "open_ports"), plan)
    run = QuestionRun(question(plan, "open_ports"), plan, address_of)
    verdict = run.answer(", ".join(map(str, opened[:1] + [by_how["drop"], by_how["reject-rst"],
                                                          by_how["reject-icmp"], plan.low - 5])))
    assert not verdict.right
    assert sorted(keys(verdict)) == ["challenge.why.extra_closed_reject_icmp", "challenge.why.extra_closed_reject_rst",
                                     "challenge.why.extra_filtered", "challenge.why.missed_open",
                                     "challenge.why.outside"]
    assert verdict.hint is not None and verdict.key is None
    missed = verdict.explanations[0]
    assert missed.values["count"] == len(opened) - 1
    assert str(opened[1]) not in json.dumps([e.values for e in verdict.explanations]), "a missed port is never named"


def test_the_key_comes_only_after_the_last_try():
    plan = draw(2, SEED)
    run = QuestionRun(question(plan, "filtered_how"), plan, address_of)
    seen = []
    for attempt in range(TRIES):
        verdict = run.answer("2" if attempt % 2 == 0 else "3")
        seen.append(verdict)
    assert [v.key is None for v in seen] == [True] * (TRIES - 1) + [False]
    assert [v.hint is None for v in seen] == [False] * (TRIES - 1) + [True]
    assert keys(seen[0]) == ["challenge.why.how_reset"] and keys(seen[1]) == ["challenge.why.how_banner"]
    assert seen[-1].key.key == "challenge.key.filtered_how" and run.finished and not run.won


def test_an_unreadable_answer_costs_no_try():
    plan = draw(3, SEED)
    run = QuestionRun(question(plan, "service_on_port"), plan, address_of)
    with pytest.raises(AnswerError):
        run.answer("a kettle")
    assert run.used == 0
    assert run.answer("SSH" if correct(run.question, plan) == "ssh" else correct(run.question, plan)).right


def test_a_service_guessed_from_the_port_number_is_told_to_read_the_banner():
    plan = draw(3, SEED)
    q = question(plan, "service_on_port")
    wrong = "http" if correct(q, plan) != "http" else "echo"
    verdict = QuestionRun(q, plan, address_of).answer(wrong)
    assert keys(verdict)[0] in ("challenge.why.service_guess", "challenge.why.service_banner")
    assert verdict.hint.key == "challenge.hint.service_on_port.1"


def test_udp_closed_and_open_filtered_mistakes_are_explained():
    plan = draw(4, SEED)
    for q in plan.questions:
        right = correct(q, plan)
        wrong = "closed" if right == "open|filtered" else "open|filtered"
        verdict = QuestionRun(q, plan, address_of).answer(wrong)
        assert keys(verdict) == [f"challenge.why.udp_{right.replace('|', '_')}_not_{wrong.replace('|', '_')}"]


def test_hosts_up_a_down_host_and_a_walled_host_each_have_their_reason():
    plan = draw(6, SEED)
    q = question(plan, "hosts_up")
    down = next(h.number for h in plan.hosts if h.role == "down")
    plain = [h.number for h in plan.hosts if h.role == "up"]
    verdict = QuestionRun(q, plan, address_of).answer(" ".join(address_of(n) for n in plain + [down]))
    assert set(keys(verdict)) == {"challenge.why.missed_walled", "challenge.why.extra_down"}
    assert QuestionRun(q, plan, address_of).answer(" ".join(str(n) for n in correct(q, plan))).right
    walled = QuestionRun(question(plan, "filtered_host"), plan, address_of)
    assert keys(walled.answer(f".{down}")) == ["challenge.why.host_down"]
    assert keys(walled.answer(f".{plain[0]}")) == ["challenge.why.host_answers"]


def test_on_loopback_the_down_host_is_realised_as_up_and_says_so():
    plan = realise(draw(5, SEED), namespace=False)
    assert all(h.role == "up" for h in plan.hosts) and "down_needs_root" in plan.notes


def network_report(plan, *, scanned, timeout=1.0, discovery_down=()):
    hosts = []
    for host in plan.hosts:
        up = host.role != "down" and host.number not in discovery_down
        rows = [{"port": p.port, "protocol": "tcp", "state": p.state, "reason": "x", "service": "", "banner": "",
                 "tries": 1} for p in host.ports if p.state != "closed" and p.port in scanned] if up else []
        hosts.append({"address": address_of(host.number), "state": "up" if up else "down", "reason": "x",
                      "scanned": up, "ports": rows, "final_timeout": timeout})
    return {"target": f"{BLOCK}8/29", "protocol": "tcp", "complete": True, "hosts": hosts}


def test_a_report_that_missed_a_filtered_range_is_graded_missed_with_the_reason():
    plan = realise(draw(2, SEED), namespace=True)
    host = plan.hosts[0]
    filtered = next(p.port for p in host.ports if p.state == "filtered")
    scanned = set(range(plan.low, filtered))          # the range stopped short of the filtered port
    report = {"address": address_of(host.number), "protocol": "tcp", "complete": True, "final_timeout": 1.0,
              "ports": [{"port": p.port, "protocol": "tcp", "state": p.state} for p in host.ports
                        if p.state != "closed" and p.port in scanned]}
    grade = grade_report(report, plan, address_of)
    item = next(i for i in grade.items if i.port == filtered)
    assert (item.verdict, item.reason, item.reported) == ("missed", "range", "")
    closed = [i for i in grade.items if i.expected == "closed"]
    assert closed and all(i.verdict == "right" for i in closed)


def test_a_report_with_a_short_timeout_and_no_ping_reasons():
    plan = realise(draw(6, SEED), namespace=True)
    walled = next(h for h in plan.hosts if h.role == "filtered")
    report = network_report(plan, scanned=range(plan.low, plan.high + 1), discovery_down={walled.number})
    web = next(h for h in report["hosts"] if h["ports"])
    web["ports"][0]["state"] = "filtered"
    grade = grade_report(report, plan, address_of)
    reasons = {(i.address, i.port): (i.verdict, i.reason) for i in grade.items}
    assert reasons[(address_of(walled.number), 0)] == ("missed", "discovery")
    assert reasons[(web["address"], web["ports"][0]["port"])] == ("missed", "timeout")
    down = next(h for h in plan.hosts if h.role == "down")
    assert reasons[(address_of(down.number), 0)] == ("right", "")


def test_report_truth_follows_the_addresses_the_report_scanned():
    octet = preferred_octet(draw(5, SEED))
    plan, where = report_truth(draw(5, SEED), [f"10.213.{octet}.9"])
    assert where(9) == f"10.213.{octet}.9" and any(h.role == "down" for h in plan.hosts)
    plan, where = report_truth(draw(5, SEED), [f"127.77.{octet}.9"])
    assert where(9) == f"127.77.{octet}.9" and all(h.role == "up" for h in plan.hosts)
    assert report_truth(draw(5, SEED), ["127.0.0.1"]) is None
    assert report_truth(draw(4, SEED), [f"127.77.{octet}.9"]) is None, "another challenge's block"


def scan(target, *extra):
    proc = subprocess.run([sys.executable, "main.py", "scan", target.scan_block, "-p",
                           f"{target.plan.low}-{target.plan.high}", "--yes", "--format", "json", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env=program_env("/tmp/unused-home"))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_loopback_challenge_answered_from_a_real_scan(isolated_home):
    """Scan the running target with main.py, answer from the scan only, get full marks."""
    from lessons.ui.i18n import Translator
    from lessons.ui.terminal import Environment
    from lessons.ui.screens.challenges import play

    with ChallengeTarget(draw(2, SEED), use_namespace=False) as target:
        assert target.mode == "loopback" and target.fallback_reason
        report = scan(target, "--timeout", "1")
        rows = {row["port"]: row for row in report["ports"]}
        opened = sorted(p for p, row in rows.items() if row["state"] == "open")
        filtered = [p for p, row in rows.items() if row["state"] == "filtered"]
        answers = iter([", ".join(map(str, opened)), str(filtered[0]), "1"])
        out = io.StringIO()
        env = Environment(stdin=io.StringIO(), stdout=out, stderr=out)
        score, total, tried = play(target, env, Translator("en"), lambda prompt: next(answers, None))
        graded = grade_report(report, target.truth, target.address)
    assert (score, total, tried) == (3, 3, 3), out.getvalue()
    assert graded.count("missed") == 0 and graded.count("wrong") == 0, graded.items
    intro = out.getvalue().split("Question 1")[0]
    assert not any(str(port) in intro for port in opened + filtered), "the screen shows no answer up front"


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_the_command_line_challenge_saves_the_score_and_closes_everything(isolated_home):
    proc = subprocess.run([sys.executable, "main.py", "challenge", "4", "--seed", str(SEED)], cwd=ROOT,
                          input="closed\nclosed\nq\n", capture_output=True, text=True, timeout=120,
                          env=program_env(isolated_home))
    assert proc.returncode == 0, proc.stderr
    assert "Question 1 of 2" in proc.stdout and "The target is stopped." in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "4" in store().challenge_scores()


@pytest.mark.parametrize("argv,needle", [(["challenge", "9"], "challenges 1 to 6"),
                                         (["challenge", "2", "--seed", "x"], "seed"),
                                         (["challenge", "2", "--report", "nowhere.json"], "same seed")])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_bad_challenge_input_is_one_line_and_exit_2(isolated_home, argv, needle):
    proc = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env=program_env(isolated_home))
    assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_a_saved_report_is_graded_from_the_command_line(isolated_home, tmp_path):
    plan = realise(draw(2, SEED), namespace=True)
    host = plan.hosts[0]
    report = {"address": f"10.213.{preferred_octet(plan)}.{host.number}", "protocol": "tcp", "complete": True, "final_timeout": 1.0,
              "ports": [{"port": p.port, "protocol": "tcp", "state": p.state} for p in host.ports
                        if p.state == "open"]}
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(report))
    proc = subprocess.run([sys.executable, "main.py", "challenge", "2", "--seed", str(SEED), "--report", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env=program_env(isolated_home))
    assert proc.returncode == 0, proc.stderr
    assert "MISSED" in proc.stdout and "not in your scanned range" in proc.stdout
    assert "1 missed" in proc.stdout


def test_where_only_127_0_0_1_exists_every_host_answers_there_and_a_note_says_so(monkeypatch):
    from lessons.lab.challenges import target as target_module

    monkeypatch.setattr(target_module, "address_problem", lambda address: "Cannot assign requested address")
    with ChallengeTarget(draw(1, SEED), use_namespace=False) as target:
        assert target.scan_block == "127.0.0.1" and "single_address" in target.notes
        port = correct(target.plan.questions[0], target.truth)[0]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_leaving_before_the_first_answer_saves_no_score(isolated_home):
    proc = subprocess.run([sys.executable, "main.py", "challenge", "1", "--seed", str(SEED)], cwd=ROOT, input="q\n",
                          capture_output=True, text=True, timeout=60, env=program_env(isolated_home))
    assert proc.returncode == 0 and "The target is stopped." in proc.stdout
    assert "Saved to your progress" not in proc.stdout and "1" not in store().challenge_scores()


def test_an_open_or_closed_port_named_as_the_filtered_one_is_explained():
    plan = draw(2, SEED)
    host = plan.hosts[0]
    q = question(plan, "filtered_port")
    opened = next(p.port for p in host.ports if p.state == "open")
    rejected = next(p.port for p in host.ports if p.how == "reject-rst")
    assert keys(QuestionRun(q, plan, address_of).answer(str(opened))) == ["challenge.why.open_not_filtered"]
    assert keys(QuestionRun(q, plan, address_of).answer(str(rejected))) == ["challenge.why.extra_closed_reject_rst"]

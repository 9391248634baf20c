"""Challenges: practice targets with hidden answers, drawn from a seed, graded from the learner's scans.

``plan``     what a challenge hides (ports, hosts, questions), drawn from a seed; pure data
``target``   running it: a network namespace as root, loopback otherwise
``grading``  one typed answer: right or wrong, why, a hint, the key after the last try
``reports``  a saved JSON scan report against the hidden truth, port by port
``board``    classroom mode: which services a class has found, counted by scanning address
"""

from lessons.lab.challenges.plan import CHALLENGE_COUNT, TRIES, Question, TargetPlan, draw

__all__ = ["CHALLENGE_COUNT", "TRIES", "Question", "TargetPlan", "draw"]

"""The screen's rules: which chats are served and when a stranger is refused (and audited)."""

from __future__ import annotations

from handlers.chats import Doorman


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_private_chats_are_served_and_groups_only_when_allowed() -> None:
    doorman = Doorman(frozenset({-100222}))
    assert doorman.serves("private", 42)
    assert doorman.serves("group", -100222)
    assert not doorman.serves("group", -100111)
    assert not doorman.serves("supergroup", -100333)
    assert not doorman.serves("channel", -100444)


def test_each_stranger_is_refused_once() -> None:
    doorman = Doorman()
    assert doorman.first_refusal(7)
    assert [doorman.first_refusal(7) for _ in range(50)] == [False] * 50
    assert doorman.first_refusal(8)


def test_memory_is_bounded_and_forgets_the_longest_quiet() -> None:
    doorman = Doorman(remember=2)
    assert doorman.first_refusal(1) and doorman.first_refusal(2)
    assert not doorman.first_refusal(1)  # 1 was heard again: 2 is now the longest quiet
    assert doorman.first_refusal(3)  # forgets 2
    assert not doorman.first_refusal(1)
    assert doorman.first_refusal(2)


def test_first_refusals_are_capped_per_hour_whatever_the_number_of_strangers() -> None:
    clock = Clock()
    doorman = Doorman(refusals_per_hour=3, clock=clock)
    assert [doorman.first_refusal(uid) for uid in range(10)] == [True] * 3 + [False] * 7
    clock.now = 3599
    assert not doorman.first_refusal(100)
    clock.now = 3600
    assert doorman.first_refusal(101)

"""The classroom board under a flood of scanning addresses: memory stays bounded, the count honest up to a cap."""

from lessons.lab.challenges.board import MAX_ADDRESSES, MAX_DIGESTS, Board


def test_a_flood_of_distinct_loopback_addresses_keeps_the_board_bounded():
    board = Board()
    flood = MAX_DIGESTS + 5000
    for index in range(flood):
        board.record("ssh/24380", f"127.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}")
    snapshot = board.snapshot()
    assert snapshot.found == [("ssh/24380", MAX_DIGESTS)]
    assert len(snapshot.scanners) == MAX_ADDRESSES and snapshot.scanner_count == MAX_ADDRESSES + 1

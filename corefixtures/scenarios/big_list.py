# Scenario big_list: one global list of 100000 small objects -- ints, (i, str)
# tuples and BigItem instances -- the "data structure that only grows" shape
# at a size where a core walker's speed and paging matter.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

N = 100000

_big = []


class BigItem(object):
    def __init__(self, n):
        self.n = n


def fill():
    for i in range(N):
        r = i % 3
        if r == 0:
            _big.append(i)
        elif r == 1:
            _big.append((i, str(i)))
        else:
            _big.append(BigItem(i))


def _count(r):
    """How many i in range(N) have i % 3 == r."""
    return (N - r + 2) // 3


def main():
    out, live = truth.parse_args()
    fill()
    global _big_item
    _big_item = _big[2]   # list + global
    extra = {
        "scenario": "big_list",
        "expected": {"BigItem": _count(2)},
        "big_len": N,
        "big_tuples": _count(1),
        "big_ints": _count(0),
        "id_types": ["BigItem"],
        "refcount_names": ["_big", "_big_item"],
        "expected_refcnt": {"_big": 1, "_big_item": 2},
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

# Scenario del_cycle: two-node reference cycles whose class defines __del__
# (uncollectable before Python 3.4, PEP 442 since; the seed posts' "cycle +
# __del__" leak).  30 pairs are dropped (unreachable garbage, kept in memory
# because gc is disabled), 5 pairs are kept alive in the global `_pairs`.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

DROPPED_PAIRS = 30
KEPT_PAIRS = 5

_pairs = []


class DelCycleNode(object):
    def __init__(self, name):
        self.name = name
        self.partner = None

    def __del__(self):
        # Never reached while the fixture runs (gc disabled, os._exit at the
        # end); kept trivial so that nothing is printed at teardown.
        self.partner = None


def make_pair(i):
    a = DelCycleNode("a%d" % i)
    b = DelCycleNode("b%d" % i)
    a.partner = b
    b.partner = a
    return a, b


def build():
    garbage = []
    for i in range(DROPPED_PAIRS):
        a, b = make_pair(i)
        garbage.append("0x%x" % id(a))
        garbage.append("0x%x" % id(b))
    a = b = None
    for i in range(KEPT_PAIRS):
        _pairs.append(make_pair(DROPPED_PAIRS + i))
    garbage.sort()
    return garbage


def main():
    out, live = truth.parse_args()
    garbage = build()
    global _kept_node
    _kept_node = _pairs[0][0]   # pair tuple + partner + this global
    extra = {
        "scenario": "del_cycle",
        "expected": {"DelCycleNode": 2 * (DROPPED_PAIRS + KEPT_PAIRS)},
        "reachable": {"DelCycleNode": 2 * KEPT_PAIRS},
        "garbage": {"DelCycleNode": 2 * DROPPED_PAIRS},
        "garbage_addresses": {"DelCycleNode": garbage},
        "id_types": ["DelCycleNode"],
        "refcount_names": ["_pairs", "_kept_node"],
        "expected_refcnt": {"_pairs": 1, "_kept_node": 3},
    }
    garbage = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

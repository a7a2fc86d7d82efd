# Scenario growth: the same process at two moments, for objgraph.show_growth-
# style diffs between two cores.  Phase a: 1000 GrowthItem in the global
# `_items`; phase b: 777 more GrowthItem and 333 new dicts (each holding a
# list, so they are GC-tracked) appended to the same list.
# Truth/READY protocol: OUT.a.truth.json + "READY a", wait for a line, grow,
# OUT.b.truth.json + "READY b", wait for a line, exit.  With --live the first
# wait stays (so a tester can look at phase a) and after "READY b" it
# heartbeats instead of waiting.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

FIRST = 1000
MORE = 777
DICTS = 333

_items = []


class GrowthItem(object):
    def __init__(self, n):
        self.n = n
        self.label = "item-%d" % n


def phase_a():
    for i in range(FIRST):
        _items.append(GrowthItem(i))


def phase_b():
    for i in range(MORE):
        _items.append(GrowthItem(FIRST + i))
    for i in range(DICTS):
        _items.append({"seq": i, "history": [i]})


def main():
    out, live = truth.parse_args()
    phase_a()
    global _first_item
    _first_item = _items[0]
    extra = {
        "scenario": "growth",
        "phase": "a",
        "expected": {"GrowthItem": FIRST},
        "items_len": FIRST,
        "id_types": ["GrowthItem"],
        "refcount_names": ["_items", "_first_item"],
        "expected_refcnt": {"_items": 1, "_first_item": 2},
    }
    truth.dump(out + ".a.truth.json", extra)
    truth.ready("READY a")
    phase_b()
    extra = {
        "scenario": "growth",
        "phase": "b",
        "expected": {"GrowthItem": FIRST + MORE},
        # held_dicts/held_lists: appended to _items; the type-level "dict" delta
        # also counts instance dicts (before 3.11) and this extra dict's.
        "added_since_a": {"GrowthItem": MORE, "held_dicts": DICTS, "held_lists": DICTS},
        "items_len": FIRST + MORE + DICTS,
        "id_types": ["GrowthItem"],
        "refcount_names": ["_items", "_first_item"],
        "expected_refcnt": {"_items": 1, "_first_item": 2},
    }
    truth.publish(out + ".b.truth.json", extra, live, "READY b")


if __name__ == "__main__":
    main()

# Scenario freeze: gc.freeze() (3.7+, used by pre-fork servers to avoid
# copy-on-write) moves every tracked object into the permanent generation,
# which gc.get_objects() -- and so objgraph -- no longer lists.  100
# FrozenThing are created before the freeze, 50 after: the truth's "types"
# shows 50, "with_frozen" shows all 150.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

BEFORE = 100
AFTER = 50

_things = []


class FrozenThing(object):
    def __init__(self, n):
        self.n = n
        self.parts = [n]


def build():
    for i in range(BEFORE):
        _things.append(FrozenThing(i))
    gc.freeze()
    for i in range(AFTER):
        _things.append(FrozenThing(BEFORE + i))


def main():
    out, live = truth.parse_args()
    if not hasattr(gc, "freeze"):
        print("SKIP freeze needs 3.7+")
        sys.stdout.flush()
        truth.finish(0)
    build()
    global _late_thing
    _late_thing = _things[BEFORE]
    extra = {
        "scenario": "freeze",
        "expected": {"FrozenThing": BEFORE + AFTER},
        "expected_visible": {"FrozenThing": AFTER},
        "frozen_before": BEFORE,
        "id_types": ["FrozenThing"],
        "refcount_names": ["_things", "_late_thing"],
        "expected_refcnt": {"_things": 1, "_late_thing": 2},
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

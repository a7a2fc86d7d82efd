# Scenario garbage27: gc.garbage, the list where a collection leaves what it cannot free.
# Before Python 3.4 a cycle whose objects define __del__ is uncollectable: gc.collect()
# appends those objects to gc.garbage, where they stay (reachable from then on).  Since
# PEP 442 (3.4) the collector calls __del__ and frees them, and gc.garbage stays empty.
#   1. EARLY pairs of Finalized (two instances with __del__ referring to each other) and
#      EARLY pairs of PlainNode (no __del__) are dropped; gc.collect() (gc stays disabled:
#      an explicit collection runs anyway).  2.7: the Finalized go to gc.garbage, the
#      PlainNode pairs are freed.  3.4+: all are freed, every Finalized.__del__ runs once.
#   2. PHOENIX pairs of Phoenix, whose __del__ resurrects the object (appends it to
#      _resurrected), are dropped; a second gc.collect().  2.7: they go to gc.garbage too
#      (__del__ never runs).  3.4+: __del__ runs, the pairs survive, marked finalized; then
#      _resurrected is emptied and they are unreachable again, already finalized (their
#      __del__ will not run a second time).
#   3. LATE pairs of Finalized and LATE_PLAIN pairs of PlainNode are dropped and stay in
#      memory as unreachable cycles (gc disabled, no collection).
# The truth records gc.garbage's ids in the parent after step 2 (`garbage_expected`; the
# child's `garbage_before` must be the same), the Phoenix instances whose __del__ ran
# (`finalized_addresses`) and the addresses of the unreachable ones (`garbage_addresses`).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

EARLY = 8
PHOENIX = 3
LATE = 4
LATE_PLAIN = 3

_resurrected = []
_deaths = []      # hex ids of the objects whose __del__ ran


class Finalized(object):
    def __init__(self, name):
        self.name = name
        self.peer = None

    def __del__(self):
        # runs on 3.4+ at the first collection; must not break the cycle
        _deaths.append("0x%x" % id(self))


class Phoenix(object):
    def __init__(self, name):
        self.name = name
        self.peer = None

    def __del__(self):
        _deaths.append("0x%x" % id(self))
        _resurrected.append(self)      # brings itself back


class PlainNode(object):
    def __init__(self, name):
        self.name = name
        self.peer = None


def pairs(cls, n, tag):
    """n dropped pairs of cls; returns their addresses."""
    out = []
    for i in range(n):
        a = cls("%s-a%d" % (tag, i))
        b = cls("%s-b%d" % (tag, i))
        a.peer = b
        b.peer = a
        out.append("0x%x" % id(a))
        out.append("0x%x" % id(b))
    a = b = None
    return out


def main():
    out, live = truth.parse_args()
    early = pairs(Finalized, EARLY, "early")
    pairs(PlainNode, EARLY, "early")
    collected = [gc.collect()]
    phoenix = pairs(Phoenix, PHOENIX, "phoenix")
    collected.append(gc.collect())
    del _resurrected[:]      # 3.4+: unreachable again, and already finalized
    garbage_expected = []
    for o in gc.garbage:
        garbage_expected.append("0x%x" % id(o))
    o = None
    late = pairs(Finalized, LATE, "late")
    late_plain = pairs(PlainNode, LATE_PLAIN, "late")
    legacy = sys.version_info < (3, 4)
    if legacy:   # uncollectable: kept alive by gc.garbage
        want_garbage = early + phoenix
        finalized = []
    else:        # freed; the Phoenix pairs came back, finalized
        want_garbage = []
        finalized = sorted(phoenix)
    if garbage_expected != want_garbage:
        raise RuntimeError("gc.garbage holds %d objects, expected %d"
                           % (len(garbage_expected), len(want_garbage)))
    extra = {
        "scenario": "garbage27",
        "expected": {"Finalized": 2 * LATE + (2 * EARLY if legacy else 0),
                     "Phoenix": 2 * PHOENIX,
                     "PlainNode": 2 * LATE_PLAIN},
        # the unreachable ones at the dump
        "garbage": {"Finalized": 2 * LATE, "PlainNode": 2 * LATE_PLAIN,
                    "Phoenix": 0 if legacy else 2 * PHOENIX},
        "garbage_addresses": {"Finalized": sorted(late), "PlainNode": sorted(late_plain),
                              "Phoenix": [] if legacy else sorted(phoenix)},
        "garbage_expected": garbage_expected,
        "garbage_expected_types": dict((a, "Finalized") for a in early) if legacy else {},
        "finalized_addresses": finalized,
        "collected": collected,
        "deaths": len(_deaths),
        "id_types": ["Finalized", "Phoenix", "PlainNode"],
        "refcount_names": ["_resurrected", "_deaths"],
        "expected_refcnt": {"_resurrected": 1, "_deaths": 1},
    }
    if legacy:
        for a in phoenix:
            extra["garbage_expected_types"][a] = "Phoenix"
    early = phoenix = late = late_plain = garbage_expected = finalized = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

# Scenario slots: 300 SlottedPoint instances (__slots__, no __dict__) kept in
# a global list, plus 50 instances of LabelledPoint, a subclass without
# __slots__ that therefore has a __dict__ -- the memory-saving pattern whose
# instances a heap walker must size and name without an instance dict.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

POINTS = 300
LABELLED = 50

_points = []


class SlottedPoint(object):
    __slots__ = ("x", "y", "label")

    def __init__(self, x, y, label):
        self.x = x
        self.y = y
        self.label = label


class LabelledPoint(SlottedPoint):   # no __slots__: gets a __dict__
    def __init__(self, x, y, label):
        SlottedPoint.__init__(self, x, y, label)
        self.note = ["labelled", label]


def build():
    for i in range(POINTS):
        _points.append(SlottedPoint(i, -i, "p%d" % i))
    for i in range(LABELLED):
        _points.append(LabelledPoint(i, i * 2, "l%d" % i))


def main():
    out, live = truth.parse_args()
    build()
    global _first_point, _first_labelled
    _first_point = _points[0]
    _first_labelled = _points[POINTS]
    extra = {
        "scenario": "slots",
        "expected": {"SlottedPoint": POINTS, "LabelledPoint": LABELLED},
        "slots": ["x", "y", "label"],
        "id_types": ["SlottedPoint", "LabelledPoint"],
        "refcount_names": ["_points", "_first_point", "_first_labelled"],
        "expected_refcnt": {"_points": 1, "_first_point": 2, "_first_labelled": 2},
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

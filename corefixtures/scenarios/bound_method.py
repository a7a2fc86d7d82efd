# Scenario bound_method: `self.callback = self.on_event` -- an instance that
# stores one of its own bound methods, a self-cycle through the method object
# that refcounting alone never frees (a common event-handler leak).  40 are
# created, 20 dropped (garbage), 20 kept in the global `_subscribers`.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

CREATED = 40
KEPT = 20

_subscribers = []


class BoundSelf(object):
    def __init__(self, topic):
        self.topic = topic
        self.events = 0
        self.callback = self.on_event     # bound method -> self: the cycle

    def on_event(self, event):
        self.events += 1


def subscribe_all():
    garbage = []
    for i in range(CREATED):
        s = BoundSelf("topic.%d" % i)
        if i % 2 == 0:
            _subscribers.append(s)
        else:
            garbage.append("0x%x" % id(s))
    s = None
    garbage.sort()
    return garbage


def main():
    out, live = truth.parse_args()
    garbage = subscribe_all()
    global _kept_subscriber
    _kept_subscriber = _subscribers[0]   # list + global + its own bound method
    extra = {
        "scenario": "bound_method",
        "expected": {"BoundSelf": CREATED},
        "reachable": {"BoundSelf": KEPT},
        "garbage": {"BoundSelf": CREATED - KEPT},
        "garbage_addresses": {"BoundSelf": garbage},
        "bound_methods": CREATED,
        "id_types": ["BoundSelf"],
        "refcount_names": ["_subscribers", "_kept_subscriber"],
        "expected_refcnt": {"_subscribers": 1, "_kept_subscriber": 3},
    }
    garbage = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

# Scenario sessions: a chat-style server that never forgets a client (Eclipse MAT's "group"
# leak suspect). The server loop keeps every Session in its registry (a local list of
# main(), the loop), and each connection's state dict in the module-global table
# `_connections` refers to its Session too; nothing is removed when a client goes away. Each
# Session is held from two places that have nothing in common but the roots, so no
# container dominates them: each is a top-level object of the dominator tree, and each alone
# is small, but together they retain most of the heap.
#
# Every Session owns what it refers to (its id, user name, history, buffer: made for it,
# shared with no other object), so what they retain together is the sum of what each
# retains.
#
# Truth ("group" in the truth file): "type" (the class's __name__), "instances" (the
# Sessions), "count" and "bytes" (what they retain together: corefixtures/truth.py's
# _retained_group, the rule of the retained tests with the set of Sessions for the object,
# sys.getsizeof summed), "types" (the retained objects by type), "registry" (the address of
# the registry list, the object referring to every Session).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

SESSIONS = 2000
HISTORY = 6

_connections = {}


class Session(object):
    def __init__(self, sid, user):
        self.sid = "session-%08d" % sid
        self.user = "user-%d" % (sid % 97)
        self.history = ["%s said %d" % (self.user, k) for k in range(HISTORY)]
        self.buffer = "." * 600 + self.sid


def accept(registry, n):
    """n clients connect: each gets a Session, in the registry and in its connection's state."""
    for i in range(n):
        s = Session(i, "user")
        registry.append(s)
        _connections[1000 + i] = {"session": s, "peer": "10.0.%d.%d" % (i // 250, i % 250)}
    s = None


def child_truth(objs):
    """In the forked child: what the Sessions retain together (truth._retained_group)."""
    sessions = []
    for conn in _connections.values():
        sessions.append(conn["session"])
    conn = None
    tracked = set()
    for o in objs:
        tracked.add(id(o))
    o = None
    r = truth._retained_group(sessions, tracked, id(sys.modules["__main__"].__dict__))
    group = {"type": Session.__name__, "instances": len(sessions)}
    if r is not None:
        group.update({"count": r["count"], "bytes": r["bytes"], "types": r["types"]})
    sessions = None
    return {"group": group}


def main():
    out, live = truth.parse_args()
    registry = []
    accept(registry, SESSIONS)
    extra = {
        "scenario": "sessions",
        "expected": {"Session": SESSIONS},
        "id_types": ["Session"],
        "refcount_names": ["_connections"],
        "registry": "0x%x" % id(registry),
        "child_truth": child_truth,
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

# Scenario bound_method: `self.callback = self.on_event` -- an instance that
# stores one of its own bound methods, a self-cycle through the method object
# that refcounting alone never frees (a common event-handler leak).  40 are
# created, 20 dropped (garbage), 20 kept in the global `_subscribers`.  The same leak
# through a dict: ChatClient's `self.handlers = {1: self.on_chat}` (the cycle instance ->
# dict -> [1] -> bound method -> __self__); 10 created, 5 dropped, 5 kept in `_clients`.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

CREATED = 40
KEPT = 20
CHAT_CREATED = 10
CHAT_KEPT = 5

_subscribers = []
_clients = []


class BoundSelf(object):
    def __init__(self, topic):
        self.topic = topic
        self.events = 0
        self.callback = self.on_event     # bound method -> self: the cycle

    def on_event(self, event):
        self.events += 1


class ChatClient(object):
    def __init__(self, nick):
        self.nick = nick
        self.handlers = {1: self.on_chat}   # dict -> bound method -> self: the cycle

    def on_chat(self, text):
        return self.nick, text


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


def connect_clients():
    garbage = []
    for i in range(CHAT_CREATED):
        c = ChatClient("nick%d" % i)
        if i % 2 == 0:
            _clients.append(c)
        else:
            garbage.append("0x%x" % id(c))
    c = None
    garbage.sort()
    return garbage


def main():
    out, live = truth.parse_args()
    garbage = subscribe_all()
    chat_garbage = connect_clients()
    global _kept_subscriber
    _kept_subscriber = _subscribers[0]   # list + global + its own bound method
    extra = {
        "scenario": "bound_method",
        "expected": {"BoundSelf": CREATED, "ChatClient": CHAT_CREATED},
        "reachable": {"BoundSelf": KEPT, "ChatClient": CHAT_KEPT},
        "garbage": {"BoundSelf": CREATED - KEPT, "ChatClient": CHAT_CREATED - CHAT_KEPT},
        "garbage_addresses": {"BoundSelf": garbage, "ChatClient": chat_garbage},
        "bound_methods": CREATED + CHAT_CREATED,
        "id_types": ["BoundSelf", "ChatClient"],
        "refcount_names": ["_subscribers", "_kept_subscriber"],
        "expected_refcnt": {"_subscribers": 1, "_kept_subscriber": 3},
    }
    garbage = chat_garbage = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

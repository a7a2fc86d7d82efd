# Scenario cache_leak: a module-global `_cache` list that a request handler
# appends to and nobody ever empties (the classic "global list grows forever"
# leak).  500 requests -> 500 CacheEntry objects, plus the single Handler.
# Handler is deliberately an old-style class on Python 2 (types.InstanceType,
# which objgraph reports under the class name).
from __future__ import print_function
import gc
gc.disable()  # keep every cycle/garbage object in memory until the core
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

REQUESTS = 500

_cache = []


class CacheEntry(object):
    def __init__(self, key, payload):
        self.key = key
        self.payload = payload            # small dict (tracked: holds a list)
        self.body = "response body for " + key


class Handler:  # old-style on Python 2 on purpose
    def __init__(self, name):
        self.name = name
        self.handled = 0

    def handle(self, request_id):
        key = "req-%d" % request_id
        payload = {"id": request_id, "user": "user%d" % (request_id % 7),
                   "tags": [request_id % 3]}
        _cache.append(CacheEntry(key, payload))   # never removed: the leak
        self.handled += 1


_handler = Handler("main")


def serve(n):
    for i in range(n):
        _handler.handle(i)


def main():
    out, live = truth.parse_args()
    serve(REQUESTS)
    global _first_entry
    _first_entry = _cache[0]   # held by this global and by _cache
    extra = {
        "scenario": "cache_leak",
        "expected": {"CacheEntry": REQUESTS, "Handler": 1},
        "id_types": ["CacheEntry", "Handler"],
        "refcount_names": ["_cache", "_handler", "_first_entry"],
        "expected_refcnt": {"_cache": 1, "_handler": 1, "_first_entry": 2},
        "cache_len": len(_cache),
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

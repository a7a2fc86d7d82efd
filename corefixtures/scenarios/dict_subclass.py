# Scenario dict_subclass: 200 TaggedDict (a dict subclass with an extra
# attribute) instances with a few keys each, registered in a global dict
# that is never pruned -- a registry leak whose objects objgraph counts under
# the subclass name, not "dict".
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

COUNT = 200

_registry = {}


class TaggedDict(dict):
    def __init__(self, tag, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.tag = tag


def register_all():
    for i in range(COUNT):
        d = TaggedDict("tag-%d" % (i % 10), id=i, name="item%d" % i, weight=i * 0.5)
        _registry["key-%d" % i] = d


def main():
    out, live = truth.parse_args()
    register_all()
    global _tagged
    _tagged = _registry["key-0"]   # registry + global
    extra = {
        "scenario": "dict_subclass",
        "expected": {"TaggedDict": COUNT},
        "registry_len": COUNT,
        "keys_per_dict": 3,
        "id_types": ["TaggedDict"],
        "refcount_names": ["_registry", "_tagged"],
        "expected_refcnt": {"_registry": 1, "_tagged": 2},
    }
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

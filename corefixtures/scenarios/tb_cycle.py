# Scenario tb_cycle: the frame <-> traceback cycle a caught exception leaves behind (the
# seed notes' `exc_info` cycle).  A request handler catches the exception its validation
# raised and keeps it in a local: either the whole `info = sys.exc_info()` tuple, or the
# exception itself (`saved = e`, whose __traceback__ is the traceback; Python 2 exceptions
# have none, so there the handler stores sys.exc_info()[2] as e.__traceback__ itself).
# The handler's frame -> the local -> the traceback -> tb_frame, the handler's frame
# again: once the handler has returned, nothing else refers to it, and with gc disabled
# its frame, the validation's frame (tb_next's tb_frame, whose f_back is the handler),
# the request, the exception and the tracebacks stay in memory as unreachable cycles --
# as does serve()'s own frame, which every handler frame's f_back holds.
# REQUESTS requests are served, alternating the two handlers.  The truth records, from
# the frame objects themselves once every handler has returned, each traceback frame's
# function (f_code.co_name), file, current line (f_lineno) and locals (f_locals: name ->
# repr, name -> type).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

REQUESTS = 6

_log = []


class RequestFailed(Exception):
    pass


class TbRequest(object):
    def __init__(self, n):
        self.n = n
        self.path = "/orders/%d" % n


def validate(request):
    limit = 100 + request.n  # noqa: F841 (a local of the kept frame)
    raise RequestFailed("bad order %d" % request.n)


def handle_exc_info(n):
    request = TbRequest(n)
    user = "user%d" % n
    attempts = n + 3  # noqa: F841
    try:
        validate(request)
    except Exception:
        info = sys.exc_info()   # frame -> info -> traceback -> frame: the cycle
    _log.append("failed %s %s" % (user, request.path))
    return info[2]


def handle_saved(n):
    request = TbRequest(n)
    user = "user%d" % n
    retries = n * 2  # noqa: F841
    try:
        validate(request)
    except Exception as e:
        saved = e               # frame -> saved -> __traceback__ -> frame: the cycle
        if getattr(e, "__traceback__", None) is None:   # Python 2
            e.__traceback__ = sys.exc_info()[2]
    _log.append("failed %s %s" % (user, request.path))
    return saved.__traceback__


def _frames(tb):
    """The frames of a traceback chain, as the truth records them."""
    out = []
    while tb is not None:
        f = tb.tb_frame
        loc = f.f_locals
        reprs = {}
        types = {}
        for k in sorted(loc.keys()):
            v = loc[k]
            reprs[k] = repr(v)[:80]
            types[k] = type(v).__name__
        out.append({"address": "0x%x" % id(f), "function": f.f_code.co_name,
                    "file": f.f_code.co_filename, "line": f.f_lineno,
                    "locals": reprs, "local_types": types})
        tb = tb.tb_next
    f = loc = v = None
    return out


def serve(requests):
    """Serves the requests; returns (what the truth records of each request's traceback
    frames, the addresses of the requests and exceptions that become garbage)."""
    records = []
    garbage = {"TbRequest": [], "RequestFailed": []}
    for n in range(requests):
        if n % 2 == 0:
            handler = handle_exc_info
        else:
            handler = handle_saved
        tb = handler(n)
        # the handler has returned: its frame's line and locals are final
        records.append({"request": n, "handler": handler.__name__, "frames": _frames(tb)})
        garbage["TbRequest"].append("0x%x" % id(tb.tb_frame.f_locals["request"]))
        garbage["RequestFailed"].append("0x%x" % id(_exception_of(tb)))
        tb = None
    handler = None
    for k in garbage:
        garbage[k].sort()
    return records, garbage


def _exception_of(tb):
    loc = tb.tb_frame.f_locals
    if "info" in loc:
        return loc["info"][1]
    return loc["saved"]


def main():
    out, live = truth.parse_args()
    records, garbage = serve(REQUESTS)
    extra = {
        "scenario": "tb_cycle",
        "expected": {"TbRequest": REQUESTS, "RequestFailed": REQUESTS},
        "garbage": {"TbRequest": REQUESTS, "RequestFailed": REQUESTS},
        "garbage_addresses": garbage,
        "tb_frames": records,
        "id_types": ["TbRequest", "RequestFailed"],
        "refcount_names": ["_log"],
        "expected_refcnt": {"_log": 1},
    }
    records = garbage = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

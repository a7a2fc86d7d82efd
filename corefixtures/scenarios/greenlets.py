# Scenario greenlets: suspended greenlets (the greenlet package, as gevent and eventlet use
# it) and their Python stacks (issue 14, `stacks --greenlets`). Three greenlets switch back
# to the main greenlet from a few calls deep and stay suspended there:
#   g1  gl_worker -> gl_leaf, switched out in gl_leaf
#   g2  gl_worker -> gl_middle -> gl_leaf (one call deeper)
#   g3  a Python subclass of greenlet (as gevent's Greenlet is), gl_worker -> gl_leaf
# besides one greenlet never started and one finished: neither has a frame. The main
# greenlet is running (its frames are the main thread's).
# The truth (written by the parent before dump()) is "greenlets": for each suspended
# greenlet, sorted by address, {address, frames}: gr_frame and on along f_back, innermost
# first, each {function (co_name), file, line (f_lineno)}; and "greenlet_objects": how many
# objects gc.get_objects() holds that are greenlets; "greenlet_only": [[object, greenlet]]
# the hex addresses of a GreenletOnly that only gl_leaf's local `held` holds, and of the
# greenlet whose frame that is. Needs the greenlet package (Debian's
# python3-greenlet, for the Debian interpreters; else SKIP).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

try:
    import greenlet
except ImportError:
    greenlet = None

_keep = []
_only = []  # (id of a GreenletOnly, id of the greenlet whose frame holds it): ints, no references


class GreenletOnly(object):
    """Held by nothing but a local of a suspended greenlet's frame: chain --to root."""


def gl_leaf(n):
    marker = "leaf-%d" % n
    held = GreenletOnly()
    _only.append(("0x%x" % id(held), "0x%x" % id(greenlet.getcurrent())))
    greenlet.getcurrent().parent.switch(n)
    return marker, held


def gl_middle(n):
    depth = n + 1
    return gl_leaf(depth)


def gl_worker(n, deeper):
    total = n * 10
    if deeper:
        return gl_middle(n)
    return gl_leaf(n), total


def _frames(frame):
    out = []
    while frame is not None and len(out) < 100:
        out.append({"function": frame.f_code.co_name, "file": frame.f_code.co_filename,
                    "line": frame.f_lineno})
        frame = frame.f_back
    return out


def main():
    out, live = truth.parse_args()
    if greenlet is None:
        print("SKIP greenlets needs the greenlet package")
        sys.stdout.flush()
        truth.finish(0)

    class Worker(greenlet.greenlet):
        pass

    g1 = greenlet.greenlet(gl_worker)
    g2 = greenlet.greenlet(gl_worker)
    g3 = Worker(gl_worker)
    g1.switch(1, False)
    g2.switch(2, True)
    g3.switch(3, False)
    never = greenlet.greenlet(gl_worker)
    done = greenlet.greenlet(lambda: 7)
    done.switch()
    _keep.extend([g1, g2, g3, never, done, Worker])
    suspended = sorted([g1, g2, g3], key=id)
    extra = {"scenario": "greenlets", "expected": {},
             "greenlets": [{"address": "0x%x" % id(g), "frames": _frames(g.gr_frame)} for g in suspended],
             "greenlet_objects": len([o for o in gc.get_objects() if isinstance(o, greenlet.greenlet)]),
             "greenlet_only": list(_only)}
    suspended = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
"""A small leaky "service", modelled on the seed notes' pdb + objgraph session
(an amqplib consumer whose Message objects never went away).

A fake AMQP consumer loop: for every delivered message the service opens a
Channel on the shared Connection; the channel registers its bound method
`on_message` as a callback on the connection (so the connection keeps every
channel alive) and is also put in the module-global `_cache` "for reuse" --
and nothing ever removes it.  Channel, Message and the bound methods grow by
one per message.

    python demo_service.py                   # serve forever, one msg / 0.1 s
    python demo_service.py --messages 200    # serve 200, print READY, wait
    python demo_service.py --messages 200 --truth /tmp/demo.truth.json

With --messages N it prints "serving msg 1" ... "serving msg N", then
(optionally writes a truth file, see truth.py) prints READY and blocks until a
line arrives on stdin, then exits -- so a Makefile can gcore it.
Runs on Python 2.7 and 3.x.
"""
from __future__ import print_function

import os
import sys
import time

_cache = []          # the leak: channels are cached and never evicted


class Message(object):
    def __init__(self, channel, delivery_tag, body):
        self.channel = channel
        self.delivery_tag = delivery_tag
        self.body = body
        self.properties = {"content_type": "application/json",
                           "headers": {"x-retry": [0]}}


class Channel(object):
    def __init__(self, connection, channel_id):
        self.connection = connection
        self.channel_id = channel_id
        self.received = []
        # the connection now references this channel through a bound method
        connection.callbacks.append(self.on_message)

    def on_message(self, message):
        self.received.append(message)


class Connection(object):
    def __init__(self, host):
        self.host = host
        self.callbacks = []
        self.next_channel_id = 1

    def channel(self):
        ch = Channel(self, self.next_channel_id)
        self.next_channel_id += 1
        return ch


class Consumer(object):
    def __init__(self, connection):
        self.connection = connection
        self.served = 0

    def handle(self, delivery_tag, body):
        ch = self.connection.channel()
        _cache.append(ch)                    # never removed
        ch.on_message(Message(ch, delivery_tag, body))
        self.served += 1


def _option(argv, name, default=None):
    if name in argv:
        i = argv.index(name)
        if i + 1 >= len(argv):
            sys.stderr.write("%s needs a value\n" % name)
            sys.exit(2)
        return argv[i + 1]
    return default


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    messages = _option(argv, "--messages")
    messages = int(messages) if messages is not None else None
    interval = float(_option(argv, "--interval", "0" if messages else "0.1"))
    truth_path = _option(argv, "--truth")

    global _consumer
    _consumer = Consumer(Connection("amqp://guest@localhost:5672//"))
    n = 0
    while messages is None or n < messages:
        n += 1
        _consumer.handle(n, '{"order": %d, "items": [1, 2, 3]}' % n)
        print("serving msg %d" % n)
        sys.stdout.flush()
        if interval:
            time.sleep(interval)

    if truth_path:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import truth
        truth.dump(truth_path, {
            "scenario": "demo_service",
            "expected": {"Channel": n, "Message": n, "Connection": 1, "Consumer": 1},
            "id_types": ["Channel", "Message", "Connection", "Consumer"],
            "refcount_names": ["_cache", "_consumer"],
            "messages": n,
        })
    print("READY")
    sys.stdout.flush()
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

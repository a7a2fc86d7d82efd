# Scenario amqp_cycle: the pdb + objgraph story from the seed notes -- an
# AMQP-style connection keeps a list of its channels and every channel keeps
# a `.connection` back-reference (plus a pending message).  20 connections x
# 5 channels are opened; the 10 kept in the global `_connections` are
# reachable, the other 10 are dropped and, with gc disabled, stay in memory as
# unreachable garbage cycles.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

CONNECTIONS = 20
CHANNELS = 5
KEPT = 10

_connections = []


class AmqpMessage(object):
    def __init__(self, channel, body):
        self.body = body
        self.delivery_tag = channel.channel_id
        self.headers = {"content-type": "text/plain", "route": [channel.channel_id]}


class AmqpChannel(object):
    def __init__(self, connection, channel_id):
        self.connection = connection     # back-reference: the cycle
        self.channel_id = channel_id
        self.pending = [AmqpMessage(self, "hello %d" % channel_id)]


class AmqpConnection(object):
    def __init__(self, host):
        self.host = host
        self.channels = []

    def channel(self):
        ch = AmqpChannel(self, len(self.channels) + 1)
        self.channels.append(ch)
        return ch


def connect_all():
    """Open the connections; keep KEPT of them, return the addresses of the
    objects that become garbage (no references to them survive)."""
    garbage = {"AmqpConnection": [], "AmqpChannel": [], "AmqpMessage": []}
    for i in range(CONNECTIONS):
        conn = AmqpConnection("broker-%d.example:5672" % i)
        for _ in range(CHANNELS):
            conn.channel()
        if i % 2 == 0:
            _connections.append(conn)
        else:
            garbage["AmqpConnection"].append("0x%x" % id(conn))
            for ch in conn.channels:
                garbage["AmqpChannel"].append("0x%x" % id(ch))
                garbage["AmqpMessage"].append("0x%x" % id(ch.pending[0]))
            ch = None
        conn = None
    for k in garbage:
        garbage[k].sort()
    return garbage


def main():
    out, live = truth.parse_args()
    garbage = connect_all()
    global _kept_connection, _kept_channel
    _kept_connection = _connections[0]          # + list + global + 5 channels
    _kept_channel = _kept_connection.channels[0]  # + channels list + global
    reachable = KEPT
    dropped = CONNECTIONS - KEPT
    extra = {
        "scenario": "amqp_cycle",
        "expected": {"AmqpConnection": CONNECTIONS,
                     "AmqpChannel": CONNECTIONS * CHANNELS,
                     "AmqpMessage": CONNECTIONS * CHANNELS},
        "reachable": {"AmqpConnection": reachable,
                      "AmqpChannel": reachable * CHANNELS,
                      "AmqpMessage": reachable * CHANNELS},
        "garbage": {"AmqpConnection": dropped,
                    "AmqpChannel": dropped * CHANNELS,
                    "AmqpMessage": dropped * CHANNELS},
        "garbage_addresses": garbage,
        "id_types": ["AmqpConnection", "AmqpChannel", "AmqpMessage"],
        "refcount_names": ["_connections", "_kept_connection", "_kept_channel"],
        "expected_refcnt": {"_connections": 1,
                            "_kept_connection": 2 + CHANNELS,
                            "_kept_channel": 2},
    }
    garbage = None
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()

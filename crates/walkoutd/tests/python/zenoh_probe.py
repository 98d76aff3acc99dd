#!/usr/bin/env python3
"""A separate process on the bus (the Python zenoh client): subscribes to a store's tracks and
health, queries its state, validates every message against the committed JSON Schema, and prints
one JSON summary line. Used by walkoutd's daemon test.

Usage: zenoh_probe.py ENDPOINT STORE SCHEMA_DIR SECONDS
"""
import json
import sys
import threading
import time

import jsonschema
import zenoh

endpoint, store, schema_dir, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
schemas = {name: json.load(open(f"{schema_dir}/{name}.schema.json")) for name in ("tracks", "health")}
lock = threading.Lock()
got = {"tracks": [], "health": []}
errors = []


def on(kind):
    def cb(sample):
        try:
            msg = json.loads(bytes(sample.payload.to_bytes()))
            jsonschema.validate(msg, schemas[kind])
            with lock:
                got[kind].append((time.monotonic(), msg))
        except Exception as e:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(f"{kind}: {e}")
    return cb


conf = zenoh.Config()
conf.insert_json5("mode", '"client"')
conf.insert_json5("connect/endpoints", json.dumps([endpoint]))
conf.insert_json5("scouting/multicast/enabled", "false")
session = zenoh.open(conf)
subs = [session.declare_subscriber(f"walkout/{store}/{k}", on(k)) for k in ("tracks", "health")]
time.sleep(seconds)
state = []
for reply in session.get(f"walkout/{store}/state/**", timeout=5.0):
    if reply.ok is not None:
        state.append((str(reply.ok.key_expr), json.loads(bytes(reply.ok.payload.to_bytes()))))
for s in subs:
    s.undeclare()
session.close()
with lock:
    ticks = [m["seq"] for _, m in got["tracks"]]
    health_times = [t for t, _ in got["health"]]
    out = {
        "tracks": len(got["tracks"]),
        "tick_seqs_consecutive": all(b == a + 1 for a, b in zip(ticks, ticks[1:])),
        "tracks_with_people": sum(1 for _, m in got["tracks"] if m["tracks"]),
        "health": len(got["health"]),
        "health_gaps": [round(b - a, 2) for a, b in zip(health_times, health_times[1:])],
        "state_keys": sorted(k for k, _ in state),
        "errors": errors[:5],
    }
print(json.dumps(out))

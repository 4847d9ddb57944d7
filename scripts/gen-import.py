#!/usr/bin/env python3
"""Writes a ChatKitty import file (a JSON array) to stdout, one item at a time, so
files of any size are generated in constant memory.

    gen-import.py users    COUNT                    users user-0 .. user-(COUNT-1)
    gen-import.py channels COUNT USERS              public channels room-0 .. with USERS members
    gen-import.py messages COUNT USERS FIRST_CHANNEL CHANNELS
                                                    TEXT messages spread over channel ids
                                                    FIRST_CHANNEL .. FIRST_CHANNEL+CHANNELS-1,
                                                    with keys and original timestamps
"""
import json
import sys
from datetime import datetime, timedelta, timezone


def main():
    kind = sys.argv[1]
    count = int(sys.argv[2])
    out = sys.stdout
    write = out.write
    write("[")
    if kind == "users":
        for i in range(count):
            item = {"name": f"user-{i}", "display_name": f"User {i}", "guest": False,
                    "properties": {"n": i}, "idempotency_key": f"user-{i}"}
            write(("," if i else "") + json.dumps(item, separators=(",", ":")) + "\n")
    elif kind == "channels":
        users = int(sys.argv[3])
        for i in range(count):
            members = [f"user-{(i + k) % users}" for k in range(min(users, 3))]
            item = {"type": "PUBLIC", "name": f"room-{i}", "display_name": f"Room {i}",
                    "members": members, "idempotency_key": f"room-{i}"}
            write(("," if i else "") + json.dumps(item, separators=(",", ":")) + "\n")
    elif kind == "messages":
        users, first, channels = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        for i in range(count):
            at = (start + timedelta(milliseconds=250 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            item = {"type": "TEXT", "channel_id": first + i % channels, "user": f"user-{i % users}",
                    "body": f"imported message number {i} with a little text to look like chat",
                    "idempotency_key": f"m-{i}", "created_time": at}
            write(("," if i else "") + json.dumps(item, separators=(",", ":")) + "\n")
    else:
        sys.exit(f"unknown kind {kind!r}")
    write("]\n")


if __name__ == "__main__":
    main()

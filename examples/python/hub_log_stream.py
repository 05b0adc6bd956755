#!/usr/bin/env python3
"""The plan's HubLogStream with its simulated POST replaced by a real one.

Standard library only. Posts the plan's payload to the resonance exporter's
ingest API (POST /api/logs, the plan's URL; /api/v1/logs is the same route).

    HUB_URL=http://127.0.0.1:9861/api/logs HUB_API_KEY=... python3 hub_log_stream.py
    python3 hub_log_stream.py --hub-url http://127.0.0.1:9861/api/logs --api-key-file keys.txt

Exits non-zero when a flush fails, so that CI notices.
"""

import argparse
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone


class HubLogStream:
    """Real-time telemetry log streaming to central hub"""

    def __init__(self, hub_url, api_key, timeout=10.0, max_buffered=10000, service="quantum-resonance-api"):
        self.hub_url = hub_url
        self.api_key = api_key
        # The service the alerts name: the exporter's `service:` and the
        # thresholds table's, so a message about these logs names the
        # service they came from. (The plan's example says
        # "quantum-resonance"; one name everywhere is what matters.)
        self.service = service
        self.timeout = timeout
        self.buffer = []
        self.buffer_size = 100
        # Bounded: while the hub is down, entries beyond it are dropped and
        # counted rather than growing memory without end.
        self.max_buffered = max_buffered
        self.dropped = 0
        self.sent = 0

    async def log(self, level, message, metadata=None):
        """Log event to stream"""
        entry = {
            # Aware UTC time: serialised with +00:00, unambiguous. (The plan's
            # naive utcnow().isoformat() is accepted too, read as UTC.)
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "level": level,
            "message": message,
            "metadata": metadata or {},
            "service": self.service,
        }

        if len(self.buffer) >= self.max_buffered:
            self.dropped += 1
            return
        self.buffer.append(entry)

        if len(self.buffer) >= self.buffer_size:
            await self.flush()

    async def flush(self):
        """Flush buffer to hub. Raises on failure; the entries are kept.

        The buffer is swapped out before the POST: entries logged while it
        is in flight go to the next flush instead of being cleared with
        this one, and a concurrent flush never sends the same entries.
        """
        if not self.buffer:
            return
        batch, self.buffer = self.buffer[: self.buffer_size], self.buffer[self.buffer_size :]
        payload = {
            "logs": batch,
            "source": "quantum-resonance-clean",
        }
        body = json.dumps(payload).encode("utf-8")
        try:
            # urllib blocks: run it off the event loop.
            status, reply = await asyncio.get_running_loop().run_in_executor(None, self._post, body)
        except Exception:
            # Back in front, in order, within the bound (the newest go).
            self.buffer = batch + self.buffer
            if len(self.buffer) > self.max_buffered:
                self.dropped += len(self.buffer) - self.max_buffered
                del self.buffer[self.max_buffered :]
            raise
        self.sent += len(batch)
        print(f"📡 Streamed {len(batch)} logs to hub: {status} {reply.strip()}")
        if len(self.buffer) >= self.buffer_size:
            await self.flush()

    def _post(self, body):
        req = urllib.request.Request(
            self.hub_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.api_key}",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            raise RuntimeError(f"hub answered {e.code}: {detail.strip()}") from None


async def main(hub_url, api_key):
    stream = HubLogStream(hub_url=hub_url, api_key=api_key)

    # Log various events
    await stream.log("INFO", "System initialized", {"version": "1.0.0"})
    await stream.log("WARNING", "High CPU usage detected", {"cpu": 85})
    await stream.log("ERROR", "API request failed", {
        "endpoint": "/api/inference",
        "status_code": 500,
    })

    # Force flush
    await stream.flush()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hub-url", default=os.environ.get("HUB_URL", "http://127.0.0.1:9861/api/logs"))
    p.add_argument("--api-key", default=os.environ.get("HUB_API_KEY", ""))
    p.add_argument("--api-key-file", help="read the key from the first key line of this file")
    args = p.parse_args(argv)
    if args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as f:
            keys = [l.strip() for l in f if l.strip() and not l.strip().startswith("#")]
        args.api_key = keys[0] if keys else ""
    return args


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    try:
        asyncio.run(main(args.hub_url, args.api_key))
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"❌ Failed to flush logs: {e}", file=sys.stderr)
        sys.exit(1)

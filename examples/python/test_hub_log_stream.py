#!/usr/bin/env python3
"""Tests of hub_log_stream.HubLogStream against a running exporter.

    HUB_URL=http://127.0.0.1:9861/api/logs HUB_API_KEY=... python3 -m unittest test_hub_log_stream

scripts/check-python-example.sh starts a real exporter and runs them.
"""

import asyncio
import os
import unittest

from hub_log_stream import HubLogStream

HUB_URL = os.environ.get("HUB_URL", "")
HUB_API_KEY = os.environ.get("HUB_API_KEY", "")


@unittest.skipUnless(HUB_URL, "HUB_URL not set: run scripts/check-python-example.sh")
class HubLogStreamTest(unittest.TestCase):
    def test_entries_logged_during_a_flush_are_kept(self):
        async def run():
            stream = HubLogStream(HUB_URL, HUB_API_KEY)
            for i in range(5):
                await stream.log("INFO", f"before {i}")

            async def log_meanwhile():
                # Runs while the flush's POST is in flight.
                await asyncio.sleep(0)
                for i in range(7):
                    await stream.log("INFO", f"during {i}")

            await asyncio.gather(stream.flush(), log_meanwhile())
            await stream.flush()
            return stream

        stream = asyncio.run(run())
        self.assertEqual(stream.sent, 12)
        self.assertEqual(stream.buffer, [])

    def test_concurrent_flushes_send_each_entry_once(self):
        async def run():
            stream = HubLogStream(HUB_URL, HUB_API_KEY)
            for i in range(5):
                await stream.log("INFO", f"entry {i}")
            await asyncio.gather(stream.flush(), stream.flush(), stream.flush())
            return stream

        self.assertEqual(asyncio.run(run()).sent, 5)

    def test_buffer_is_bounded_while_the_hub_is_down(self):
        async def run():
            # Nothing listens on port 1: every flush fails.
            stream = HubLogStream("http://127.0.0.1:1/api/logs", HUB_API_KEY, timeout=1, max_buffered=250)
            failures = 0
            for i in range(1000):
                try:
                    await stream.log("INFO", f"entry {i}")
                except Exception:  # noqa: BLE001 - the hub is down on purpose
                    failures += 1
            return stream, failures

        stream, failures = asyncio.run(run())
        self.assertGreater(failures, 0)
        self.assertLessEqual(len(stream.buffer), 250)
        self.assertEqual(len(stream.buffer) + stream.dropped, 1000)
        self.assertEqual(stream.buffer[0]["message"], "entry 0", "failed batches keep their place, oldest first")


if __name__ == "__main__":
    unittest.main()

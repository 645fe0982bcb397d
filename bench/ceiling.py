"""The ceiling: N 1 KB POSTs from a bare aiohttp loop on uvloop, nothing stored.

``python -m bench.ceiling URL COUNT CONCURRENCY`` prints ``{"seconds": …, "cpu": …, …}``: the
time from the first request to the last response and the CPU time it took, in its own process
like a worker.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import orjson
import uvloop

BODY = orjson.dumps({"pad": "x" * 1000})


async def blast(url: str, count: int, concurrency: int) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    errors = 0
    queue = iter(range(count))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def sender() -> None:
            nonlocal errors
            for seq in queue:
                headers = {"Content-Type": "application/json", "X-Hookline-Event-Id": f"c{seq}"}
                try:
                    async with session.post(url, data=BODY, headers=headers) as resp:
                        await resp.read()
                        errors += resp.status != 200
                except aiohttp.ClientError:
                    errors += 1

        started, cpu = time.time(), time.process_time()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds, cpu = time.time() - started, time.process_time() - cpu
        return {"started": started, "seconds": seconds, "cpu": cpu, "errors": errors}


def main() -> None:
    url, count, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(orjson.dumps(uvloop.run(blast(url, count, concurrency))).decode())


if __name__ == "__main__":
    main()

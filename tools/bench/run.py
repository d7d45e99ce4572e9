"""`make bench`: runs the benchmarks on this machine's real services and prints their figures."""

import asyncio
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import messaging
import whole_system


async def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results = {
        "messaging (outbox -> relay -> RabbitMQ -> inbox)": await messaging.run(),
        "whole system through the gateway": await whole_system.run(),
    }
    for name, figures in results.items():
        print(f"\n{name}")
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

"""Subscribes to live alerts with the gql client (PyPI) over graphql-ws, as a notebook would.

Prints one JSON line per alert received, then exits after --count alerts or --timeout seconds.
Prints "READY" once the subscription is acknowledged, so the caller knows when to send alerts.
"""
import argparse
import asyncio
import json
import sys

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--token")
    args = parser.parse_args()

    params = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    transport = WebsocketsTransport(url=args.url, init_payload=params)
    query = gql(
        """subscription Live($filter: AlertFilter) {
             liveAlerts(filter: $filter) { receivedAt alert { alertId objectId band mag } }
           }"""
    )
    query.variable_values = {"filter": {"band": ["r"]}}
    received = 0

    async def run() -> None:
        nonlocal received
        async with Client(transport=transport) as session:
            subscription = session.subscribe(query)
            print("READY", flush=True)
            async for result in subscription:
                print(json.dumps(result["liveAlerts"]), flush=True)
                received += 1
                if received >= args.count:
                    return

    try:
        await asyncio.wait_for(run(), timeout=args.timeout)
    except asyncio.TimeoutError:
        print(f"timeout after {received} alerts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
"""Read Fink distribution topics with the real fink-client AlertConsumer; print each alert as one JSON line.

The consumer is fink_client.consumer.AlertConsumer, configured as its own `finkctl stream` does, minus the
credentials: without both `username` and `password` in its config it sets no SASL options, so it speaks
PLAINTEXT to the broker. It takes each message's schema from the message key (JSON) and decodes the value as
schemaless Avro with fastavro: exactly what a Fink user's client does.

Output (stdout), one line per alert, in arrival order:
    {"topic": ..., "key_sha256": <hex of the key bytes>, "alert": {...}}
JSON has no 64-bit integers, bytes or NaN, so the alert is written with these rules:
    - every field named candid, and every int outside +-(2^53 - 1), is a decimal string;
    - bytes are base64 strings;
    - floats are JSON numbers written with repr (shortest text that reads back to the same double); NaN and the
      infinities are the strings "NaN", "Infinity", "-Infinity";
    - datetimes (timestamp-millis fields) are integer milliseconds since the Unix epoch.
Everything else fink-client or its dependencies print goes to stderr.

With --require-fields a,b,c every alert must carry those top-level fields (a consumer written for Fink's
topics reads them by name, e.g. alert["snn_snia_vs_nonia"]); the first alert without one ends the run.

Exit status: 0 when `--count` alerts arrived before `--timeout`; 2 when fink_client cannot be imported;
3 when fewer alerts arrived; 4 when the consumer reports an error; 5 when an alert lacks a required field.
The reason is on stderr.
"""

import argparse
import base64
import datetime
import hashlib
import json
import math
import sys
import time

MAX_SAFE_INTEGER = 2**53 - 1
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def to_json(value, name=None):
    """Convert a decoded Avro value into JSON-safe data without losing precision."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if name == "candid" or abs(value) > MAX_SAFE_INTEGER:
            return str(value)
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return (moment - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(value, dict):
        return {key: to_json(item, key) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item, name) for item in value]
    raise TypeError(f"no JSON form for {type(value).__name__} in field {name}")


def fail(message, status):
    sys.stderr.write(f"fink_client_read: {message}\n")
    sys.stderr.flush()
    sys.exit(status)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port[,host:port]")
    parser.add_argument("--topic", required=True, action="append", help="topic to read (repeatable)")
    parser.add_argument("--group", required=True, help="consumer group id (use a fresh one per run)")
    parser.add_argument("--count", required=True, type=int, help="alerts to read before exiting")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for them all")
    parser.add_argument("--survey", default="ztf", choices=["ztf", "lsst"])
    parser.add_argument(
        "--require-fields",
        default="",
        help="comma-separated top-level fields every alert must carry (exit 5 otherwise)",
    )
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    out = sys.stdout
    # fink-client and its dependencies may print (schema dumps, warnings): keep stdout for the JSON lines.
    sys.stdout = sys.stderr

    try:
        import fink_client
        from fink_client.consumer import AlertConsumer, AlertError
    except ImportError as err:
        fail(f"cannot import fink_client ({err}): install test/interop/requirements.txt", 2)
    sys.stderr.write(f"fink_client {fink_client.__version__} from {fink_client.__file__}\n")

    # group.id is read under this exact key (fink_client.consumer._get_kafka_config); no username/password
    # means no SASL settings, i.e. PLAINTEXT. auto.offset.reset=earliest is fink-client's own default.
    config = {"bootstrap.servers": args.bootstrap, "group.id": args.group}
    required = [field for field in args.require_fields.split(",") if field]
    deadline = time.monotonic() + args.timeout
    received = 0
    consumer = AlertConsumer(args.topic, config, survey=args.survey)
    try:
        while received < args.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            topic, alert, key = consumer.poll(timeout=min(remaining, 1.0))
            if alert is None:
                continue
            missing = [field for field in required if field not in alert]
            if missing:
                fail(f"alert {alert.get('candid')} from {topic} lacks {', '.join(missing)}", 5)
            line = {
                "topic": topic,
                "key_sha256": hashlib.sha256(key.encode("utf8")).hexdigest(),
                "alert": to_json(alert),
            }
            out.write(json.dumps(line, allow_nan=False) + "\n")
            out.flush()
            received += 1
    except AlertError as err:
        fail(f"the consumer reported an error: {str(err).strip()}", 4)
    finally:
        consumer.close()

    if received < args.count:
        fail(
            f"received {received} of {args.count} alerts from {args.topic} in {args.timeout:.0f} s",
            3,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Decode-only throughput of fastavro on ZTF alert files, the Python side of `npm run bench decode`.

Usage: fastavro_decode.py ROUNDS FILE...

Every file is read into memory first; then each round decodes every file's bytes, one core, two ways:
    reader      fastavro.reader over the file's bytes: header, embedded schema parsed, blocks, datums. What a
                Python consumer of the ZTF stream (one Avro container per Kafka message) writes.
    schemaless  the container header read here, the writer schema parsed once per distinct schema (cached by its
                bytes, as the TypeScript decoder does), then fastavro.schemaless_reader over the block: the best
                fastavro can do on this stream.
One warm-up pass precedes the timed rounds. Prints one JSON object:
    {"fastavro": version, "python": version, "alerts": n, "bytes": n,
     "reader": [wall s, cpu s], "schemaless": [wall s, cpu s]}
CPU seconds (time.process_time) make the per-core rate independent of what else the machine runs.
"""

import io
import json
import platform
import sys
import time

import fastavro

MAGIC = b"Obj\x01"
SYNC_SIZE = 16


def read_long(buf, pos):
    """Zig-zag varint at pos: (value, next position)."""
    shift = 0
    value = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def header(buf):
    """(schema bytes, codec, position of the first block) of an Avro container file."""
    if buf[:4] != MAGIC:
        raise ValueError("not an Avro container file")
    pos = 4
    meta = {}
    while True:
        count, pos = read_long(buf, pos)
        if count == 0:
            break
        if count < 0:
            count = -count
            _, pos = read_long(buf, pos)
        for _ in range(count):
            size, pos = read_long(buf, pos)
            key = bytes(buf[pos : pos + size]).decode()
            pos += size
            size, pos = read_long(buf, pos)
            meta[key] = bytes(buf[pos : pos + size])
            pos += size
    return meta["avro.schema"], meta.get("avro.codec", b"null"), pos + SYNC_SIZE


def decode_reader(data):
    return sum(1 for _ in fastavro.reader(io.BytesIO(data)))


def decode_schemaless(data, parsed):
    schema_bytes, codec, pos = header(data)
    if codec != b"null":
        raise ValueError(f"codec {codec!r}: this benchmark reads uncompressed containers only")
    schema = parsed.get(schema_bytes)
    if schema is None:
        schema = parsed[schema_bytes] = fastavro.parse_schema(json.loads(schema_bytes))
    view = memoryview(data)
    n = 0
    while pos < len(data):
        count, pos = read_long(data, pos)
        size, pos = read_long(data, pos)
        block = io.BytesIO(view[pos : pos + size])
        for _ in range(count):
            fastavro.schemaless_reader(block, schema, None)
            n += 1
        pos += size + SYNC_SIZE
    return n


def timed(rounds, files, decode):
    """(wall seconds, CPU seconds of this process) of `rounds` passes, after one warm-up pass."""
    for data in files:
        decode(data)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for data in files:
            decode(data)
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    rounds = int(sys.argv[1])
    files = []
    for name in sys.argv[2:]:
        with open(name, "rb") as f:
            files.append(f.read())
    alerts = sum(decode_reader(data) for data in files)
    parsed = {}
    print(
        json.dumps(
            {
                "fastavro": fastavro.__version__,
                "python": platform.python_version(),
                "alerts": alerts,
                "bytes": sum(len(data) for data in files),
                "reader": timed(rounds, files, decode_reader),
                "schemaless": timed(rounds, files, lambda data: decode_schemaless(data, parsed)),
            }
        )
    )


if __name__ == "__main__":
    main()

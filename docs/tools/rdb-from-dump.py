#!/usr/bin/env python3
"""Rebuilds the newest (or a chosen) snapshot generation of an UNENCRYPTED Compozy Cache data_dir as a
Redis RDB file, from the output of Berkeley DB JE's DbDump of the 'chunks' database.

  java -cp je-18.3.12.jar com.sleepycat.je.util.DbDump -h <data_dir copy> -s chunks > chunks.dump
  python3 rdb-from-dump.py chunks.dump dump.rdb [generation]
"""
import sys

def main(dump_path, rdb_path, wanted=None):
    lines = open(dump_path).read().split("\n")
    start = lines.index("HEADER=END") + 1
    chunks = {}
    i = start
    while lines[i] != "DATA=END":
        key, value = bytes.fromhex(lines[i].strip()), bytes.fromhex(lines[i + 1].strip())
        generation, index = int.from_bytes(key[:8], "big"), int.from_bytes(key[8:12], "big")
        chunks.setdefault(generation, {})[index] = value
        i += 2
    generation = int(wanted) if wanted else max(chunks)
    parts = chunks[generation]
    if sorted(parts) != list(range(len(parts))):
        sys.exit("generation %d has missing chunks" % generation)
    data = b"".join(parts[n] for n in range(len(parts)))
    if not data.startswith(b"REDIS"):
        sys.exit("generation %d is not a plain RDB (encrypted snapshots cannot be extracted this way)" % generation)
    open(rdb_path, "wb").write(data)
    print("generation %d: %d chunk(s), %d bytes -> %s" % (generation, len(parts), len(data), rdb_path))

if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Load benchmark of ardoise-store: accepted records per second and latency percentiles.

Starts `ardoise-store serve` (release build recommended) on 127.0.0.1 and a free port, on a
fresh SQLite file or on a fresh database of a PostgreSQL server, enrols BENCHES benches through
the CLI, then BENCHES threads push RECORDS signed inventory records each (distinct ids, so every
push is a real insert: signature check + durable write), each over its own keep-alive
connection, as fast as the store answers. Prints one result line per database and writes them to
bench/results/store-latest.md. The store and everything it created are removed afterwards.

  bench/store-load.py STORE_BINARY [--benches 20] [--records 500] [--postgres URL] [--output FILE]

Needs python3 with `cryptography` (Debian: python3-cryptography). The records are signed before
the clock starts. Figures from a shared or loaded machine are not results: run it on an idle one.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: Ed25519PrivateKey) -> dict:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}


def thumbprint(jwk: dict) -> str:
    canonical = '{"crv":"%s","kty":"%s","x":"%s"}' % (jwk["crv"], jwk["kty"], jwk["x"])
    return b64url(hashlib.sha256(canonical.encode()).digest())


def signed_inventory(key: Ed25519PrivateKey, jwk: dict, index: int) -> bytes:
    payload = {
        "schema": "https://ardoise.example/inventory/v1", "schemaVersion": 1,
        "id": str(uuid.uuid4()), "issuedAt": "2026-09-21T10:00:00Z", "benchID": "load",
        "chassis": {"type": "laptop" if index % 3 else "desktop"},
        "system": {"vendor": "LENOVO", "model": "ThinkPad T480", "serial": "PF%06d" % index},
    }
    header = {"alg": "Ed25519", "kid": thumbprint(jwk), "typ": "jose+json", "jwk": jwk}
    protected = b64url(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    signature = b64url(key.sign(f"{protected}.{body}".encode()))
    return json.dumps({"payload": body, "protected": protected, "signature": signature},
                      sort_keys=True, separators=(",", ":")).encode()


def start_store(binary: str, db: str, log_path: str, config: str):
    log = open(log_path, "w")
    process = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", db, "--config", config],
                               stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        text = open(log_path).read()
        marker = "listening on http://127.0.0.1:"
        if marker in text:
            port = int(text.split(marker, 1)[1].split()[0].split("(")[0].strip())
            return process, port
        if process.poll() is not None:
            raise SystemExit(f"store exited: {text}")
        time.sleep(0.05)
    process.kill()
    raise SystemExit("store did not start")


def run(binary: str, db: str, label: str, benches: int, records: int, workdir: str) -> str:
    keys, tokens, outboxes = [], [], []
    for index in range(benches):
        key = Ed25519PrivateKey.generate()
        jwk = public_jwk(key)
        path = os.path.join(workdir, f"bench-{label}-{index}.jwk")
        with open(path, "w") as f:
            json.dump(jwk, f)
        out = subprocess.run([binary, "benches", "add", "--db", db, "--name", f"bench {index}", "--organisation", "load",
                              "--jwk", path, "--json"], check=True, capture_output=True, text=True).stdout
        tokens.append(json.loads(out)["token"])
        outboxes.append([signed_inventory(key, jwk, i) for i in range(records)])
        keys.append(key)

    # The store's rate limits are off: this measures what the store can take, not its limits.
    config = os.path.join(workdir, "store.toml")
    with open(config, "w") as f:
        f.write("[limits]\nbench-requests-per-minute = 0\naddress-requests-per-minute = 0\n")
    process, port = start_store(binary, db, os.path.join(workdir, f"serve-{label}.log"), config)
    latencies, errors = [], []
    lock = threading.Lock()

    def bench(index: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for body in outboxes[index]:
            started = time.perf_counter()
            connection.request("POST", "/api/v1/records", body=body, headers={
                "Authorization": f"Bearer {tokens[index]}", "Content-Type": "application/jose+json"})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 201:
                with lock:
                    errors.append(response.status)
        with lock:
            latencies.extend(mine)

    try:
        threads = [threading.Thread(target=bench, args=(i,)) for i in range(benches)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    total = benches * records
    summary = (f"{label}: {total / elapsed:.0f} records/s, p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, "
               f"max {pct(1.0):.1f} ms ({benches} benches × {records} records in {elapsed:.1f} s, {len(errors)} not 201)")
    row = (f"| {label} | {benches} × {records} | {total / elapsed:.0f} | {pct(0.50):.1f} | {pct(0.99):.1f} | "
           f"{pct(1.0):.1f} | {len(errors)} |")
    return row, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--benches", type=int, default=20)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--output", help="where to write the results (default bench/results/store-latest.md)")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (a fresh database is created and dropped)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="ardoise-store-load-")
    lines = ["| database | benches × records | accepted/s | p50 ms | p99 ms | max ms | non-201 |",
             "|---|---|---|---|---|---|---|"]
    summaries = []
    try:
        row, summary = run(args.binary, os.path.join(workdir, "store.sqlite"), "SQLite", args.benches, args.records, workdir)
        lines.append(row)
        summaries.append(summary)
        print(summary, flush=True)
        if args.postgres:
            name = "ardoise_load_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {name}"], check=True)
            try:
                url = args.postgres.replace("/postgres?", f"/{name}?") if "/postgres?" in args.postgres else args.postgres.rsplit("/", 1)[0] + "/" + name
                row, summary = run(args.binary, url, "PostgreSQL", args.benches, args.records, workdir)
                lines.append(row)
                summaries.append(summary)
                print(summary, flush=True)
            finally:
                subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = args.output or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "store-latest.md")
    os.makedirs(os.path.dirname(results), exist_ok=True)
    with open(results, "w") as f:
        f.write("# ardoise-store load benchmark\n\n")
        f.write(f"`bench/store-load.py` on {socket.gethostname()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                f"{os.cpu_count()} CPUs. Inventory records (signature check + durable insert), one keep-alive "
                "connection per bench.\n\n")
        f.write("\n".join(lines) + "\n")
    # The block to paste (also written to the results file).
    print("\n--- store load benchmark (paste from here) ---")
    print(f"{socket.gethostname()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"rate limits off, {args.benches} benches × {args.records} records each")
    print("\n".join(lines))
    print("\n".join(summaries))
    print("--- end ---")
    print(f"written to {results}")


if __name__ == "__main__":
    sys.exit(main())

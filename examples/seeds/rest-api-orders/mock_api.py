#!/usr/bin/env python3
"""A stand-in for a shop's REST API, for trying the example without network: not part of the
pipeline. GET /orders?since=T returns, as a JSON array, the current version of each order in
data/orders.jsonl (the last line of each id with updated_at up to API_NOW, default: all) that
was updated at or after T. The API's clock is read from the file `api_now` next to this script
when present (so it can move between runs), else from API_NOW.

    python3 mock_api.py PORT_FILE    # listens on 127.0.0.1, a free port written to PORT_FILE

It stops by itself after 60 idle seconds.
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
last_request = time.time()


def now():
    try:
        with open(os.path.join(HERE, "api_now")) as f:
            return f.read().strip()
    except OSError:
        return os.environ.get("API_NOW", "9999-12-31T23:59:59Z")


def orders(since):
    current = {}
    with open(os.path.join(HERE, "data", "orders.jsonl")) as f:
        for line in f:
            o = json.loads(line)
            if o["updated_at"] <= now():
                current[o["id"]] = o
    return [o for o in current.values() if not since or o["updated_at"] >= since]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global last_request
        last_request = time.time()
        url = urllib.parse.urlparse(self.path)
        if url.path.rstrip("/") != "/orders":
            self.send_error(404)
            return
        since = urllib.parse.parse_qs(url.query).get("since", [""])[0]
        body = json.dumps(orders(since)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("mock_api: " + fmt % args + "\n")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while time.time() - last_request < 60:
        time.sleep(1)
    server.shutdown()


if __name__ == "__main__":
    main()

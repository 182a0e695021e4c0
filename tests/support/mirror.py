"""A real HTTP server on 127.0.0.1 that plays MNIST mirrors, well or badly, for download tests.

with serving() as server:                  # or the `server` fixture of tests/data
    server.files["/m0/" + name] = content  # what a mirror path serves
    server.modes["/m0/"] = "404"           # how it serves it: one of Behaviour.MODES
    ... server.url + "/m0/" ...            # the mirror's URL; server.requests: what was asked
"""

import contextlib
import gzip
import hashlib
import http.server
import socket
import struct
import threading

import numpy as np
from mnist_files import idx_bytes

from lenet.data import MNIST


class Behaviour:
    """What the test server does for each mirror path, and what it was asked for."""

    MODES = ("ok", "404", "short", "drop", "chunked", "garbage", "stall", "trickle", "slow")

    def __init__(self):
        self.files = {}  # "/mirror/name" -> bytes
        self.modes = {}  # "/mirror/" -> one of MODES
        self.requests = []
        self.release = threading.Event()  # lets "stall" handlers finish at teardown


def make_handler(behaviour):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            behaviour.requests.append(self.path)
            mirror = self.path.rsplit("/", 1)[0] + "/"
            mode = behaviour.modes.get(mirror, "ok")
            body = behaviour.files.get(self.path)
            if mode == "404" or body is None:
                self.send_error(404)
                return
            if mode == "garbage":  # not an HTTP response at all
                self.wfile.write(b"hello\r\n\r\n")
                return
            self.send_response(200)
            if mode == "chunked":  # announce a 1000-byte chunk, send 10 bytes, close
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"3e8\r\n" + body[:10])
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "short":  # promise the whole body, send half, close cleanly
                self.wfile.write(body[: len(body) // 2])
            elif mode == "drop":  # send part of the body, then reset the connection
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                linger_zero = struct.pack("ii", 1, 0)  # close() then sends a TCP RST
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
                self.connection.close()
            elif mode == "stall":  # headers, then silence until the client times out
                self.wfile.flush()
                behaviour.release.wait(10)
            elif mode in ("trickle", "slow"):  # 50 bytes/s, or 5 kB/s, until the client leaves
                step = 1 if mode == "trickle" else 100
                for start in range(0, len(body), step):
                    self.wfile.write(body[start : start + step])
                    self.wfile.flush()
                    if behaviour.release.wait(0.02):
                        return
            else:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # writing to a connection the client has given up on is expected here


@contextlib.contextmanager
def serving():
    """Run a mirror server while the block runs; yields its Behaviour (with .url)."""
    behaviour = Behaviour()
    httpd = QuietServer(("127.0.0.1", 0), make_handler(behaviour))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    behaviour.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield behaviour
    finally:
        behaviour.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def publish_test_split(server):
    """Serve a 3-image test split on /m0/; returns its checksums."""
    files = dict(zip(MNIST.files["test"], (np.zeros((3, 28, 28)), [1, 2, 3]), strict=True))
    checksums = {}
    for name, array in files.items():
        server.files["/m0/" + name] = gzip.compress(idx_bytes(array), mtime=0)
        checksums[name] = hashlib.sha256(server.files["/m0/" + name]).hexdigest()
    return checksums

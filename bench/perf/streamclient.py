"""A small, sequential HTTP/1.1 client on a raw keep-alive socket, for what wrk cannot measure:
time to first token (the first `data:` line) and total time of a streamed chat completion.

The same client measures the direct upstream, so its own cost cancels out of "added" figures.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class HTTPFailure(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    first_data_s: float | None  # seconds from sending to the first `data:` bytes
    total_s: float  # seconds from sending to the end of the body


@dataclass
class Client:
    url: str  # base URL, e.g. http://127.0.0.1:8080/v1
    api_key: str = ""
    timeout: float = 30.0
    sock: socket.socket | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> socket.socket:
        if self.sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
        return self.sock

    def post(self, path: str, body: bytes) -> Answer:
        try:
            return self._post(path, body)
        except (OSError, HTTPFailure):
            # a keep-alive connection the server closed while idle: retry once on a new one
            self.close()
            return self._post(path, body)

    def _post(self, path: str, body: bytes) -> Answer:
        sock = self._connect()
        auth = f"authorization: Bearer {self.api_key}\r\n" if self.api_key else ""
        request = (f"POST {self.prefix}{path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
                   f"content-type: application/json\r\naccept: */*\r\n{auth}"
                   f"content-length: {len(body)}\r\n\r\n").encode() + body
        started = time.perf_counter()
        sock.sendall(request)
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv(sock)
        head = bytes(buf[:end]).decode("latin-1").split("\r\n")
        del buf[:end + 4]
        status = int(head[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body_out = bytearray()
        first_data: float | None = None
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                while (eol := buf.find(b"\r\n")) < 0:
                    buf += self._recv(sock)
                size = int(bytes(buf[:eol]).split(b";")[0], 16)
                while len(buf) < eol + 2 + size + 2:
                    buf += self._recv(sock)
                chunk = bytes(buf[eol + 2:eol + 2 + size])
                del buf[:eol + 2 + size + 2]
                if size == 0:
                    break
                body_out += chunk
                if first_data is None and b"data:" in body_out:
                    first_data = time.perf_counter() - started
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(buf) < length:
                buf += self._recv(sock)
            body_out += buf[:length]
            if b"data:" in body_out:
                first_data = time.perf_counter() - started
        else:  # read to close
            body_out += buf
            while chunk := sock.recv(65536):
                body_out += chunk
            self.close()
        total = time.perf_counter() - started
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, headers, bytes(body_out), first_data, total)

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        data = sock.recv(65536)
        if not data:
            raise HTTPFailure("connection closed by the server")
        return data

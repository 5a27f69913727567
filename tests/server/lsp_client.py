"""A small LSP client for the tests: ``perflint server`` as a subprocess, JSON-RPC over its pipes.

Written out rather than borrowed from pygls, so the tests see the bytes an editor sees: the
framing, the JSON and the server's own process, started as an editor starts it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

# Every wait of a test is bounded; a server that does not answer fails the test instead of hanging it.
TIMEOUT = 60.0


def code_points(line: str, utf16_units: int) -> int:
    """How many characters of ``line`` the first ``utf16_units`` UTF-16 code units cover
    (a character beyond the Basic Multilingual Plane takes two)."""
    units = 0
    for index, character in enumerate(line):
        if units >= utf16_units:
            return index
        units += 2 if ord(character) > 0xFFFF else 1
    return len(line)


def apply_text_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """``text`` with LSP text edits applied, positions in UTF-16 code units (LSP's default)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: dict[str, int]) -> int:
        if position["line"] >= len(lines):
            return len(text)
        line = lines[position["line"]].rstrip("\r\n")
        return starts[position["line"]] + code_points(line, position["character"])

    spans = sorted(
        ((offset(edit["range"]["start"]), offset(edit["range"]["end"]), edit["newText"]) for edit in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


class LanguageClient:
    def __init__(self, cwd: Path, *arguments: str) -> None:
        # Standard error goes to a file: a pipe nobody reads could fill and stall the server.
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "perflint", "server", *arguments],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
        )
        self.incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                header = stream.readline()
                if not header:
                    self.incoming.put(None)
                    return
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "a message without Content-Length"
            self.incoming.put(json.loads(stream.read(length)))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            message = self.incoming.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("the server sent nothing in time") from None
        if message is None:
            self.errors.seek(0)
            raise ConnectionError(f"the server exited: {self.errors.read().decode(errors='replace')}")
        return message

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        identifier = self.next_id
        self.next_id += 1
        self._send({"id": identifier, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == identifier and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")
            self.notifications.append(message)

    def wait_for(self, accept: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first notification (already received or to come) that ``accept`` takes; it is
        consumed, so the next wait sees only later ones."""
        for message in self.notifications:
            if accept(message):
                self.notifications.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if accept(message):
                return message
            self.notifications.append(message)

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """The next diagnostics published for ``uri`` (for its ``version`` when given)."""
        message = self.wait_for(
            lambda message: (
                message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri
                and (version is None or message["params"].get("version") == version)
            ),
            timeout,
        )
        return message["params"]["diagnostics"]

    def initialize(self, root: Path, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.request(
            "initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": capabilities or {}}
        )
        self.notify("initialized", {})
        return result

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}},
        )

    def replace(self, uri: str, text: str, version: int) -> None:
        """A didChange that replaces the whole text (a change with no range)."""
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def close(self) -> int:
        """Shut down and exit as an editor does; the server's exit status."""
        try:
            self.request("shutdown", None, timeout=15)
            self.notify("exit", {})
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdin, self.process.stdout, self.errors):
                if stream is not None:
                    stream.close()

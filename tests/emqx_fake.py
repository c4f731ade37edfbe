"""A stand-in for EMQX 5.8's REST API (EMQX is not installable here), answering as its
documentation says: Basic auth with an API key and secret (401 ``BAD_API_KEY_OR_SECRET``; a
viewer key gets 403 on changes), ``GET /api/v5/clients?username=&page=&limit=`` with its
``meta`` (page, limit, hasnext, count), ``GET /api/v5/clients/{clientid}`` (404
``CLIENTID_NOT_FOUND``), ``DELETE /api/v5/clients/{clientid}`` (204, or 404 when gone), and
503 while "a node restarts".

Its state (the live clients, every request, every kick) is a JSON file, so a test can kill
the process and start it again on the same port and state: ``python tests/emqx_fake.py
--port P --state FILE``. ``FakeEmqx`` runs one in a subprocess.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

KEY, SECRET = "cloudsignal-relay", "fake-emqx-secret-0123456789"
VIEWER_KEY = "viewer"


class State:
    """The live clients: those of the JSON file, less every kick the log holds (so a restart
    resumes where the killed process stopped); every request, with its answer, is a line of
    that JSON-lines log beside the file."""

    def __init__(self, path: Path):
        self.path, self.lock = path, threading.Lock()
        self.data = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("clients", {})
        self.data.setdefault("unavailable", False)
        log = path.with_suffix(".log")
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            if entry["method"] == "DELETE" and entry["status"] == 204:
                self.data["clients"].pop(unquote(entry["path"].removeprefix("/api/v5/clients/")), None)
        self.by_username: dict[str, set[str]] = {}
        for client_id, info in self.data["clients"].items():
            self.by_username.setdefault(info["username"], set()).add(client_id)
        self.log = open(log, "a", buffering=1)  # noqa: SIM115 (lives with the server)

    def record(self, entry: dict) -> None:
        self.log.write(json.dumps(entry) + "\n")


def handler_for(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def setup(self):
            super().setup()
            # Headers and body are two writes: without this, Nagle and delayed ACKs add 40 ms
            # to every keep-alive answer (EMQX's own server answers in one write).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _answer(self, status: int, body=None) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _who(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
            if (key, secret) == (KEY, SECRET):
                return "administrator"
            if (key, secret) == (VIEWER_KEY, SECRET):
                return "viewer"
            return None

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            with state.lock:
                answer = self._route(method, parts.path, parse_qs(parts.query), body)
                state.record(
                    {
                        "method": method,
                        "path": parts.path,
                        "query": parts.query,
                        "body": body,
                        "status": answer[0],
                        "auth": self.headers.get("Authorization", ""),
                        "at": time.time(),
                    }
                )
            self._answer(*answer)

        def _route(self, method: str, path: str, query: dict, body=None):
            role = self._who()
            if role is None:
                return 401, {"code": "BAD_API_KEY_OR_SECRET", "message": "Check api_key/api_secret"}
            if state.data["unavailable"]:
                return 503, {"code": "SERVICE_UNAVAILABLE", "message": "Node is restarting"}
            if method != "GET" and role == "viewer":
                return 403, {"code": "FORBIDDEN", "message": "Viewer may not change anything"}
            clients = state.data["clients"]
            if path == "/api/v5/clients" and method == "GET":
                username = (query.get("username") or [None])[0]
                page = int((query.get("page") or ["1"])[0])
                limit = int((query.get("limit") or ["100"])[0])
                ids = sorted(clients) if username is None else sorted(state.by_username.get(username, ()))
                rows = [{"clientid": cid, **clients[cid]} for cid in ids]
                chunk = rows[(page - 1) * limit : page * limit]
                meta = {"page": page, "limit": limit, "hasnext": page * limit < len(rows), "count": len(rows)}
                return 200, {"data": chunk, "meta": meta}
            if path.startswith("/api/v5/clients/"):
                client_id = unquote(path.removeprefix("/api/v5/clients/"))
                if client_id not in clients:
                    return 404, {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}
                if method == "GET":
                    return 200, {"clientid": client_id, **clients[client_id]}
                if method == "DELETE":
                    state.by_username[clients.pop(client_id)["username"]].discard(client_id)
                    return 204, None
            return self._configuration(method, path.removeprefix("/api/v5"), body)

        def _configuration(self, method: str, path: str, body):
            """Authenticators, authorization sources and settings, connectors, actions, rules:
            stored as sent (EMQX adds defaults of its own, which the fake leaves out)."""
            store = state.data.setdefault("config", {})
            sources = state.data.setdefault("sources", [])
            collections = {"/authentication": "id", "/connectors": "name", "/actions": "name", "/rules": "id"}
            if path in collections and method == "POST":
                key = {
                    "/authentication": lambda b: f"{b.get('mechanism')}:{b.get('backend')}",
                    "/connectors": lambda b: f"{b.get('type')}:{b.get('name')}",
                    "/actions": lambda b: f"{b.get('type')}:{b.get('name')}",
                    "/rules": lambda b: b.get("id"),
                }[path](body or {})
                if f"{path}/{key}" in store:
                    return 400, {"code": "ALREADY_EXISTS", "message": f"{key} already exists"}
                store[f"{path}/{key}"] = body
                return (201 if path != "/authentication" else 200), {**body, "id": key}
            if path == "/authentication" and method == "GET":
                return 200, [v for k, v in store.items() if k.startswith("/authentication/")]
            if path == "/authorization/sources" and method == "GET":
                return 200, {"sources": sources}
            if path == "/authorization/sources" and method == "POST":
                if any(src["type"] == body.get("type") for src in sources):
                    return 409, {"code": "ALREADY_EXISTS", "message": "source exists"}
                sources.append(body)
                return 204, None
            if path.startswith("/authorization/sources/"):
                kind, _, verb = path.removeprefix("/authorization/sources/").partition("/")
                found = [i for i, src in enumerate(sources) if src["type"] == kind]
                if not found:
                    return 404, {"code": "NOT_FOUND", "message": f"source {kind}"}
                if verb == "move" and method == "POST":
                    moved = sources.pop(found[0])
                    sources.insert(0 if body.get("position") == "front" else len(sources), moved)
                    return 204, None
                if method == "GET":
                    return 200, sources[found[0]]
                if method == "PUT":
                    sources[found[0]] = body
                    return 204, None
            if path == "/authorization/settings":
                if method == "GET":
                    return 200, store.get(
                        path, {"no_match": "allow", "deny_action": "ignore", "cache": {"enable": True}}
                    )
                if method == "PUT":
                    store[path] = body
                    return 200, body
            if any(path.startswith(c + "/") for c in collections):
                if path not in store:
                    return 404, {"code": "NOT_FOUND", "message": path}
                if method == "GET":
                    return 200, store[path]
                if method == "PUT":
                    store[path] = {**store[path], **body}
                    return 200, store[path]
            return 404, {"code": "NOT_FOUND", "message": f"{method} {path}"}

        def do_GET(self):
            self._handle("GET")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_POST(self):
            self._handle("POST")

        def do_PUT(self):
            self._handle("PUT")

    return Handler


class FakeEmqx:
    """The fake in a subprocess on ``port``, its state in ``state_file``."""

    def __init__(self, state_file: Path, port: int):
        self.state_file, self.port, self.process = state_file, port, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeEmqx:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--port", str(self.port), "--state", str(self.state_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().startswith("listening"), "the fake EMQX did not start"
        return self

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def live(self) -> set[str]:
        """The client ids still connected: the seeded ones less every kick."""
        return set(self.state()["clients"]) - set(self.kicks())

    def requests(self) -> list[dict]:
        log = self.state_file.with_suffix(".log")
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def kicks(self) -> list[str]:
        """The client ids kicked (204), in order, over every run of the fake."""
        return [
            unquote(r["path"].removeprefix("/api/v5/clients/"))
            for r in self.requests()
            if r["method"] == "DELETE" and r["status"] == 204
        ]

    def edit(self, change) -> None:
        """Change the state while the fake is stopped (or between requests)."""
        data = self.state()
        change(data)
        tmp = self.state_file.with_suffix(".edit")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.state_file)


@contextmanager
def running_fake(tmp_path: Path, port: int, clients: dict | None = None):
    state_file = tmp_path / "emqx-state.json"
    state_file.write_text(json.dumps({"clients": clients or {}}))
    fake = FakeEmqx(state_file, port).start()
    try:
        yield fake
    finally:
        if fake.process.poll() is None:
            fake.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(State(args.state)))
    server.daemon_threads = True
    print("listening", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

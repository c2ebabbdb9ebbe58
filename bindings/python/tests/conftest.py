"""Shared fixtures: a loopback OpenAI Chat Completions server and book flows."""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

Reply = Dict[str, Any]


def book_reply(body: Dict[str, Any]) -> str:
    """Answer the book flow: an outline of N chapters as JSON, then chapter texts."""
    prompt = body["messages"][-1]["content"]
    if "OUTLINE" in prompt:
        m = re.search(r"in (\d+) chapters", prompt)
        n = int(m.group(1)) if m else 3
        chapters = [{"title": f"Part {i}"} for i in range(1, n + 1)]
        return json.dumps({"logline": "A test book", "chapters": chapters})
    return f"Text for {prompt}. It was a dark night, and the river ran on."


class OpenAIServer:
    """Speaks POST /v1/chat/completions on 127.0.0.1, streaming (SSE) and not.

    ``reply(body)`` gives the text; ``fail(body)`` may return ``(status,
    error_json)`` to answer with an error; ``delay(body)`` seconds to wait
    before answering. Every request body is kept in ``requests``.
    """

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.headers: List[Dict[str, str]] = []
        self.reply: Callable[[Dict[str, Any]], str] = book_reply
        self.fail: Callable[[Dict[str, Any]], Optional[tuple[int, Dict[str, Any]]]] = lambda b: None
        self.delay: Callable[[Dict[str, Any]], float] = lambda b: 0.0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                wait = server.delay(body)
                if wait:
                    time.sleep(wait)
                failure = server.fail(body)
                if failure is not None:
                    return self._json(failure[0], failure[1])
                text = server.reply(body)
                usage = {"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50}
                if body.get("stream"):
                    return self._stream(body, text, usage)
                return self._json(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": usage,
                })

            def _json(self, status: int, obj: Dict[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: Dict[str, Any], text: str, usage: Dict[str, int]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                pieces = [text[i:i + 12] for i in range(0, len(text), 12)] or [""]
                chunks = [{"id": "c", "object": "chat.completion.chunk", "model": body.get("model"),
                           "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
                          for p in pieces]
                chunks.append({"id": "c", "object": "chat.completion.chunk",
                               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                chunks.append({"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": usage})
                for c in chunks:
                    self._chunk(f"data: {json.dumps(c)}\n\n".encode())
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def prompts(self) -> List[str]:
        with self.lock:
            return [r["messages"][-1]["content"] for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    s = OpenAIServer()
    yield s
    s.close()


@pytest.fixture
def providers(server: OpenAIServer) -> List[Dict[str, Any]]:
    return [{"name": "openai", "api_key": "test", "base_url": server.base_url}]


BOOK_FLOW: Dict[str, Any] = {
    "nodes": [
        {"id": "brief", "type": "input", "position": {"x": 0, "y": 0},
         "data": {"label": "Brief", "fields": [
             {"name": "title", "type": "string", "required": True},
             {"name": "chapters", "type": "integer", "default": 3}]}},
        {"id": "outline", "type": "text", "position": {"x": 200, "y": 0},
         "data": {"provider": "openai", "model": "gpt-4o-mini", "max_tokens": 800, "output": "json",
                  "stream": False, "system": "You plan books.",
                  "prompt": "OUTLINE {{input.title}} in {{input.chapters}} chapters"}},
        {"id": "write", "type": "map", "position": {"x": 400, "y": 0},
         "data": {"items": "{{nodes.outline.output.chapters}}", "concurrency": 2,
                  "expected_items": "{{input.chapters}}",
                  "node": {"kind": "text", "provider": "openai", "model": "gpt-4o-mini", "max_tokens": 400,
                           "prompt": "WRITE chapter {{item.title}} of {{input.title}}"}}},
        {"id": "book", "type": "compile", "position": {"x": 600, "y": 0},
         "data": {"title": "{{input.title}}", "chapters": "{{nodes.write.output}}",
                  "titles": "{{nodes.outline.output.chapters}}"}},
    ],
    "edges": [
        {"id": "e1", "source": "brief", "target": "outline"},
        {"id": "e2", "source": "outline", "target": "write"},
        {"id": "e3", "source": "write", "target": "book"},
    ],
}


def book_flow(stream: bool = True, concurrency: int = 2) -> Dict[str, Any]:
    """The book flow; chapter writers stream when ``stream``."""
    f = copy.deepcopy(BOOK_FLOW)
    f["nodes"][2]["data"]["node"]["stream"] = stream
    f["nodes"][2]["data"]["concurrency"] = concurrency
    return f


def node(flow: Dict[str, Any], node_id: str) -> Dict[str, Any]:
    for n in flow["nodes"]:
        if n["id"] == node_id:
            return n  # type: ignore[no-any-return]
    raise KeyError(node_id)

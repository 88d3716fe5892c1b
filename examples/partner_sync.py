"""A small partner client of the CRM's partner API: push a CSV of contacts, pull the contacts shared
with you and then only what changed, and check the signature of a webhook we send you.

    export CRM_URL=http://127.0.0.1:8000 CRM_PARTNER_KEY=crmp_...   # the key an admin gave you
    python examples/partner_sync.py push contacts.csv
    python examples/partner_sync.py pull --state sync-state.json      # full listing, then changes
    python examples/partner_sync.py serve-webhooks --port 8088        # CRM_WEBHOOK_SECRET=whsec_...

The CSV has a header line with any of: external_id (required), email, first_name, last_name,
phone, language, legal_basis (consent or legitimate_interest, required), source (required),
consent_text, consent_version, consented_at (ISO 8601 with offset), proof_url.

Needs `httpx` and `standardwebhooks` (pip install httpx standardwebhooks)."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BATCH = 500  # the API's limit per call
API = "/api/v1/partner"
FIELDS = (
    "external_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "language",
    "legal_basis",
    "source",
    "consent_text",
    "consent_version",
    "consented_at",
    "proof_url",
)


def client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call, waiting as the server says when the key's rate limit is reached (429)."""
    while True:
        response = http.request(method, path, **kwargs)
        if response.status_code != 429:
            return response
        time.sleep(int(response.headers.get("Retry-After", "1")))


def read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # Empty cells are left out: an absent field leaves the CRM's value as it is.
    return [{k: v.strip() for k, v in row.items() if k in FIELDS and v and v.strip()} for row in rows]


def batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def push(http: httpx.Client, contacts: list[dict[str, Any]]) -> dict[str, int]:
    """Pushes in batches of 500. Each batch's Idempotency-Key is derived from its content, so
    running the script again after a failure replays what went through instead of writing twice."""
    totals = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
    for batch in batches(contacts):
        body = {"contacts": batch}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"partner-sync:{digest}"))
        response = call(http, "POST", f"{API}/contacts/batch", json=body, headers={"Idempotency-Key": key})
        if response.status_code == 409:  # the same batch still running elsewhere: wait, replay
            time.sleep(1)
            response = call(http, "POST", f"{API}/contacts/batch", json=body, headers={"Idempotency-Key": key})
        response.raise_for_status()
        answer = response.json()
        for status, count in answer["counts"].items():
            totals[status] += count
        for result in answer["results"]:
            if result["status"] == "error":
                fields = ", ".join(f"{e['field']}: {e['detail']}" for e in result["errors"])
                print(f"  item {result['external_id']}: {fields}", file=sys.stderr)
    return totals


def pull(http: httpx.Client, state_path: Path, page_size: int = 500) -> dict[str, int]:
    """Keeps a local copy of the contacts shared with you in the state file: a full listing the
    first time (or after a 410), then only the changes since the sync token it saved."""
    state = json.loads(state_path.read_text()) if state_path.exists() else {"sync_token": None, "contacts": {}}
    contacts: dict[str, Any] = state["contacts"]
    seen = {"listed": 0, "changed": 0, "removed": 0}
    token = state["sync_token"]
    if token is not None:
        while True:
            response = call(http, "GET", f"{API}/contacts/changes", params={"sync_token": token, "limit": page_size})
            if response.status_code == 410:  # too old: start over with a full listing
                token, contacts = None, {}
                break
            response.raise_for_status()
            page = response.json()
            for change in page["items"]:
                if change["deleted"]:
                    seen["removed"] += contacts.pop(change["id"], None) is not None
                else:
                    contacts[change["id"]] = change["contact"]
                    seen["changed"] += 1
            token = page["sync_token"]
            if not page["has_more"]:
                break
    if token is None:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
            response = call(http, "GET", f"{API}/contacts", params=params)
            response.raise_for_status()
            page = response.json()
            for contact in page["items"]:
                contacts[contact["id"]] = contact
            seen["listed"] += len(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                token = page["sync_token"]
                break
    state_path.write_text(json.dumps({"sync_token": token, "contacts": contacts}, ensure_ascii=False))
    return seen


def verify_webhook(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The Standard Webhooks check (webhook-id, webhook-timestamp, webhook-signature), by the
    specification's reference library: raises WebhookVerificationError on a bad or old signature."""
    return Webhook(secret).verify(body, headers)  # type: ignore[no-any-return]


def serve_webhooks(secret: str, port: int) -> None:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                event = verify_webhook(secret, body, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                self.send_response(400)
                self.end_headers()
                return
            print(f"{event.get('type')}: {json.dumps(event.get('data'), ensure_ascii=False)}")
            self.send_response(204)
            self.end_headers()

    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("CRM_URL", "http://127.0.0.1:8000"))
    commands = parser.add_subparsers(dest="command", required=True)
    push_cmd = commands.add_parser("push", help="push the contacts of a CSV file")
    push_cmd.add_argument("csv", type=Path)
    pull_cmd = commands.add_parser("pull", help="pull the contacts shared with you, then the changes")
    pull_cmd.add_argument("--state", type=Path, default=Path("partner-sync-state.json"))
    serve_cmd = commands.add_parser("serve-webhooks", help="receive and verify webhooks")
    serve_cmd.add_argument("--port", type=int, default=8088)
    args = parser.parse_args(argv)
    if args.command == "serve-webhooks":
        serve_webhooks(os.environ["CRM_WEBHOOK_SECRET"], args.port)
        return 0
    with client(args.url, os.environ["CRM_PARTNER_KEY"]) as http:
        if args.command == "push":
            print(push(http, read_csv(args.csv)))
        else:
            print(pull(http, args.state))
    return 0


if __name__ == "__main__":
    sys.exit(main())

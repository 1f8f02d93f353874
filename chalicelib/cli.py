"""Operator commands: ``python -m chalicelib.cli api-key [--account acc_...]`` (``make api-key``)."""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="klyph")
    sub = parser.add_subparsers(dest="command", required=True)
    key = sub.add_parser("api-key", help="create a workspace (if new) and a new API key for it")
    key.add_argument("--account", help="existing or new account id (default: a new acc_ id)")
    key.add_argument("--name", default="", help="workspace display name")
    key.add_argument("--stage", choices=["local", "aws"], default="local")
    key.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)),
                     help="API port of the running local stack (its AWS stand-in listens on port+1)")
    args = parser.parse_args(argv)

    if args.stage == "local":
        os.environ.setdefault("KLYPH_AWS_ENDPOINT_URL", f"http://127.0.0.1:{args.port + 1}")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    from chalicelib.services import auth

    try:
        account_id, api_key = auth.create_workspace(args.account, name=args.name)
    except Exception as exc:  # an operator needs the reason, not a traceback
        where = "the local stack (is `make run` running?)" if args.stage == "local" else "DynamoDB"
        print(f"could not create the key in {where}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"account id: {account_id}\nAPI key:    {api_key}\n(the key is shown once; only its hash is stored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Operator commands (``make api-key``, ``make revoke-key``):

    python -m tools.cli api-key [--account acc_...] [--stage local|aws]
    python -m tools.cli revoke-key --key klyph_sk_... [--stage local|aws]   (--key - reads stdin)

``--stage local`` talks to the running local stack; ``--stage aws`` to the table named by
``KLYPH_TABLE`` with the AWS credentials and region of the environment.
"""
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
    revoke = sub.add_parser("revoke-key", help="revoke an API key: requests with it answer 401 from now on")
    revoke.add_argument("--key", required=True, help="the key to revoke, or - to read it from stdin")
    for command in (key, revoke):
        command.add_argument("--stage", choices=["local", "aws"], default="local")
        command.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)),
                             help="API port of the running local stack (its AWS stand-in listens on port+1)")
    args = parser.parse_args(argv)

    if args.stage == "local":
        os.environ.setdefault("KLYPH_AWS_ENDPOINT_URL", f"http://127.0.0.1:{args.port + 1}")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    elif not os.environ.get("KLYPH_TABLE"):
        print("set KLYPH_TABLE to the deployed table (the stack's TableName output)", file=sys.stderr)
        return 2
    from chalicelib.errors import BadRequest
    from chalicelib.services import auth

    where = "the local stack (is `make run` running?)" if args.stage == "local" else "DynamoDB"
    try:
        if args.command == "api-key":
            account_id, api_key = auth.create_workspace(args.account, name=args.name)
        else:
            api_key = (sys.stdin.readline() if args.key == "-" else args.key).strip()
            if not api_key:
                print("no key given", file=sys.stderr)
                return 2
            if not auth.revoke_key(api_key):
                print(f"no such key: {api_key[:12]}...", file=sys.stderr)
                return 1
    except BadRequest as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - an operator needs the reason, not a traceback
        print(f"could not reach {where}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    if args.command == "api-key":
        print(f"account id: {account_id}\nAPI key:    {api_key}\n(the key is shown once; only its hash is stored)")
    else:
        print(f"revoked {api_key[:12]}...: requests with it now answer 401")
    return 0


if __name__ == "__main__":
    sys.exit(main())

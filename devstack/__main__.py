"""``python -m devstack``: run the whole Klyph service on this machine (``make run``)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("KLYPH_MOTO_PORT", 0)) or None)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    moto_port = args.moto_port or args.port + 1

    logging.basicConfig(
        level=os.environ.get("KLYPH_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from devstack import stack

    stack.configure_environment(moto_port)
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    stack.enable_state_machine_interpreter()

    from app import app
    from chalicelib.services import auth, sources
    from devstack.server import make_server

    stale = sources.remove_stale_caches()
    if stale:
        logging.getLogger("klyph.local").info("removed source caches of stopped processes: %s", ", ".join(stale))
    stack.install_lambda_dispatch(app)
    stack.provision(app, render_concurrency=int(os.environ.get("KLYPH_RENDER_CONCURRENCY", 2)))
    account_id, api_key = auth.create_workspace(
        os.environ.get("KLYPH_DEV_ACCOUNT_ID") or None,
        os.environ.get("KLYPH_DEV_API_KEY") or None,
        name="Local workspace",
    )
    server = make_server(app, args.host, args.port)
    _print_banner(f"http://{args.host}:{args.port}/api", account_id, api_key)

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    # Handled explicitly (not as KeyboardInterrupt) so Ctrl-C also stops a stack started from
    # a script in the background, where the shell leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.server.serve_forever()
    finally:
        server.server.server_close()
        moto.stop()
        sources.clear()  # the downloaded sources in the temp directory
    print("Klyph local stack stopped.", flush=True)
    return 0


def _print_banner(base: str, account_id: str, api_key: str) -> None:
    auth = f'-H "Authorization: Bearer {api_key}"'
    print(
        f"""
Klyph is running on the embedded local stack at {base}
  account id: {account_id}
  API key:    {api_key}

Try it:
  curl {base}/health
  curl {base}/dev/create-project {auth} -H "Content-Type: application/json" \\
    -d '{{"name": "Fall Interviews", "accountId": "{account_id}"}}'
  curl {base}/dev/upload-video {auth} -F "file=@./interview.mp4" -F "account_id={account_id}" -F "project_id=proj_..."
  curl {base}/dev/process-video-submit {auth} -H "Content-Type: application/json" \\
    -d '{{"videoId": "vid_...", "maxClips": 3, "minDuration": 30, "maxDuration": 60, "aspectRatio": "9:16"}}'
  curl "{base}/dev/process-video-result?callId=call_..." {auth}
  curl "{base}/dev/list-clips?videoId=vid_..." {auth}
  curl "{base}/dev/video-summary?videoId=vid_..." {auth}
Ctrl-C stops everything.
""",
        flush=True,
    )


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Executions still running in moto's worker threads must not keep the process alive.
    os._exit(code)

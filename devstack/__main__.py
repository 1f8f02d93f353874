"""``python -m devstack``: run the whole Klyph service on this machine (``make run``)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from devstack.memory import release_freed_memory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("KLYPH_MOTO_PORT", 0)) or None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", help="where the stack keeps its data (default: KLYPH_DATA_DIR, else .klyph-data)")
    args = parser.parse_args(argv)
    moto_port = args.moto_port or args.port + 1

    logging.basicConfig(
        level=os.environ.get("KLYPH_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from devstack import datadir, stack

    try:
        data = datadir.DataDir(datadir.location(args.data_dir)).open()
    except datadir.InUse as exc:
        print(exc, file=sys.stderr)
        return 2
    stack.configure_environment(moto_port)
    # Webhook secrets are sealed with a key kept beside the rest of this stack's data.
    os.environ.setdefault("KLYPH_WEBHOOK_KEY_FILE", str(data.root / "webhook-secret.key"))
    from devstack import recovery
    from devstack.persistence import Lifecycle, MotoServer, Persistence

    lifecycle = Lifecycle(stack.WORK_PREFIX, stack.WORK_EXPIRY_DAYS, stack.NONCURRENT_EXPIRY_DAYS)
    persistence = Persistence(data, account_id=stack.ACCOUNT, region=os.environ["AWS_DEFAULT_REGION"],
                              lifecycle=lifecycle)
    moto = MotoServer("127.0.0.1", moto_port, wrap=persistence.wsgi).start()
    stack.enable_state_machine_interpreter()
    stack.serialize_dynamodb()

    from app import app
    from chalicelib.config import settings
    from chalicelib.services import sources
    from devstack.server import make_server

    stale = sources.remove_stale_caches()
    if stale:
        logging.getLogger("klyph.local").info("removed source caches of stopped processes: %s", ", ".join(stale))
    stack.install_lambda_dispatch(app)
    stack.provision(app, render_concurrency=int(os.environ.get("KLYPH_RENDER_CONCURRENCY", 2)),
                    api_origins=_api_origins(args.host, args.port))
    # From here on every change is on disk before the AWS stand-in answers.
    loaded = persistence.load()
    table = settings().table_name
    interrupted = recovery.settle_interrupted_jobs(app, persistence.db, table)
    found = recovery.count(persistence.db, table)
    account_id, api_key = _workspace(data)
    server = make_server(app, args.host, args.port)
    _print_banner(f"http://{args.host}:{args.port}/api", account_id, api_key,
                  _data_line(data, loaded, found, interrupted), data.root)

    if os.environ.get("KLYPH_WARM_WORKERS", "1") != "0" and settings().transcriber == "whisper":
        threading.Thread(target=_warm_workers, name="warm-workers", daemon=True).start()

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
        persistence.close()
        data.close()
        sources.clear()  # the downloaded sources in the temp directory
    print("Klyph local stack stopped.", flush=True)
    return 0


def _warm_workers() -> None:
    """Load the local Whisper models and the sentence encoder now, beside the idle stack,
    instead of inside the first upload's preparation and the first selection (1.1 s and 0.3 s on
    2 cores, and 270 MB): a Lambda container keeps what its first invocation loaded, and so does
    this process, so only the first job of a session paid. ``KLYPH_WARM_WORKERS=0`` leaves them
    to first use."""
    from chalicelib.services import wiring

    log = logging.getLogger("klyph.local")
    started = time.monotonic()
    try:
        wiring.whisper().warm()
        wiring.embedder().warm()
    # A missing or damaged model (ModelIntegrityError and ctranslate2's errors are RuntimeErrors):
    # the first transcription meets it again and reports it to its job.
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        log.warning("could not load the models ahead of the first job: %s", exc)
        return
    finally:
        release_freed_memory()
    log.info("Whisper models and sentence encoder loaded in %.1f s", time.monotonic() - started)


def _api_origins(host: str, port: int) -> tuple[str, ...]:
    """The origins the dashboard is opened from: the host served on, and the loopback names
    for it (a stack on 0.0.0.0 is still opened as 127.0.0.1 or localhost on this machine)."""
    hosts = dict.fromkeys([host, "127.0.0.1", "localhost"] if host in ("0.0.0.0", "127.0.0.1", "localhost") else [host])
    return tuple(f"http://{h}:{port}" for h in hosts if h != "0.0.0.0")


def _workspace(data: Any) -> tuple[str, str]:
    """The seeded workspace: the one this data directory saved, unless KLYPH_DEV_* pin another.

    Its key's hash is in the table like any key's; the key itself is kept in ``workspace.json``
    (mode 0600) so the banner can show it again. A key revoked since is replaced by a new one.
    """
    from chalicelib.services import auth, wiring

    saved = data.read_workspace()
    pinned_account = os.environ.get("KLYPH_DEV_ACCOUNT_ID") or None
    pinned_key = os.environ.get("KLYPH_DEV_API_KEY") or None
    account_id = pinned_account or (saved[0] if saved else None)
    api_key = pinned_key or (saved[1] if saved else None)
    record = wiring.records().get_api_key(auth.hash_key(api_key)) if api_key else None
    if record and not record.get("revoked") and record.get("accountId") == account_id:
        return account_id, api_key  # type: ignore[return-value] # a record exists only for a known key
    if record and record.get("revoked") and not pinned_key:
        logging.getLogger("klyph.local").warning("the saved workspace key was revoked: issuing a new one")
        api_key = None
    account_id, api_key = auth.create_workspace(account_id, api_key, name="Local workspace")
    if not (pinned_account and pinned_key):
        data.write_workspace(account_id, api_key)
    return account_id, api_key


def _data_line(data: Any, loaded: Any, found: Any, interrupted: list[str]) -> str:
    from devstack.datadir import human

    line = (f"  data:       {data.root} ({human(loaded.bytes)} of objects)\n"
            f"              loaded {found.projects} projects, {found.videos} videos, {found.clips} clips "
            f"in {loaded.seconds:.2f} s")
    if interrupted:
        line += f"\n              {len(interrupted)} interrupted job(s) marked failed: safe to resubmit"
    return line


def _print_banner(base: str, account_id: str, api_key: str, data_line: str, root: Any) -> None:
    auth = f'-H "Authorization: Bearer {api_key}"'
    print(
        f"""
Klyph is running on the embedded local stack at {base}
  account id: {account_id}
  API key:    {api_key}
  dashboard:  {base}/app (sign in with the API key)
{data_line}

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
Ctrl-C stops everything; the data stays in {root} (make reset-data wipes it).
""",
        flush=True,
    )


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Executions still running in moto's worker threads must not keep the process alive.
    os._exit(code)

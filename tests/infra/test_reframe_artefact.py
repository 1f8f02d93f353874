"""The synthesised pipeline_reframe, run as Lambda would load it.

Nothing of the test venv: the Chalice deployment zip the template ships (``/var/task``), the
layers the template attaches to the function, in its order, merged into one ``/opt`` (their
``python/`` on the path), and only the SDK Lambda's Python runtime brings (boto3, botocore and
their pure-Python dependencies), under Python 3.12 in isolated mode without site-packages.
The handler reads a generated video with a face from a moto server and must find that face:
the layer's OpenCV decodes H.264 with its own FFmpeg and runs YuNet, with no ffmpeg binary
(``KLYPH_FFMPEG`` names one that does not exist, as on AWS without the ffmpeg layer).

A missing or broken OpenCV would not fail the handler (reframing falls back to the centre
crop), so the assertions are on the plan: faces found, and a crop that frames them.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from chalicelib.domain.media import crop_box
from chalicelib.domain.transcript import Transcript
from chalicelib.job import ClipRef, Media, RenderItem, SourceRef
from chalicelib.models import JobOptions

pytestmark = [pytest.mark.slow, pytest.mark.media]

W, H, FPS, SECONDS = 1280, 720, 25, 4.0
FACE = 200  # side of the face patch, in source pixels
FACE_X, FACE_Y = W // 6 - FACE // 2, 260  # centred in the left third: wholly outside the centre crop
ASPECT = "9:16"
BUCKET = "klyph-artefact-media"
SOURCE_KEY = "accounts/acc_artefact/videos/vid_artefact/source"
# What Lambda's python3.12 runtime provides next to the function (/var/runtime): pure Python.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def python312() -> str:
    candidates = (os.environ.get("KLYPH_PYTHON312"), str(Path.home() / ".pyenv/versions/3.12.1/bin/python"),
                  shutil.which("python3.12"))
    found = next((c for c in candidates if c and Path(c).exists()), None)
    if found is None:
        pytest.skip("no Python 3.12 (Lambda's runtime) here: set KLYPH_PYTHON312")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_face_video(path: Path) -> Path:
    """H.264 mp4, 1280x720 at 25 fps as a phone writes it (a keyframe a second, B-frames): a real
    face (scikit-image's public-domain astronaut, as in tests/integration/test_reframe_video.py)
    on a textured background, still in the left third."""
    from tests.media_fixtures import ffmpeg_exe
    from tools.synthetic_video import background, face_patch, write_frames

    frame = background((W, H), seed=7)
    frame[FACE_Y:FACE_Y + FACE, FACE_X:FACE_X + FACE] = face_patch(FACE)
    return write_frames(path, (W, H), SECONDS, lambda t: frame, ffmpeg=ffmpeg_exe(), fps=FPS,
                        encoder=("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "25", "-bf", "3"))


def lambda_filesystem(synth, root: Path) -> tuple[Path, Path, Path, dict]:
    """``task`` (the deployment zip), ``opt`` (the layers, merged in the template's order) and
    ``runtime`` (the SDK Lambda provides) under ``root``, and the function's template properties."""
    resources = synth.template["Resources"]
    props = resources["PipelineReframe"]["Properties"]
    task, opt, runtime = root / "task", root / "opt", root / "runtime"
    with zipfile.ZipFile(synth.asset(props["CodeUri"]["Key"])) as zf:
        zf.extractall(task)
    for ref in props["Layers"]:  # Lambda extracts each layer into /opt, later ones on top
        with zipfile.ZipFile(synth.asset(resources[ref["Ref"]]["Properties"]["Content"]["S3Key"])) as zf:
            zf.extractall(opt)
    import boto3

    site = Path(boto3.__file__).parents[1]  # the venv's pure-Python SDK, as the runtime ships it
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        if (site / name).is_dir():
            shutil.copytree(site / name, runtime / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(site / name, runtime / name)
    return task, opt, runtime, props


# Runs in the Lambda-like interpreter: path as Lambda's (/var/task first, then /opt/python, then
# the runtime's SDK), the handler called as Lambda calls it, and where each module came from.
RUNNER = """
import json, sys, time
paths, event_file, out_file = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path[:0] = paths
started = time.monotonic()
import app
imported = time.monotonic()
result = app.pipeline_reframe(json.load(open(event_file)), None)
done = time.monotonic()
origins = {name: getattr(sys.modules.get(name), "__file__", None)
           for name in ("app", "chalice", "pydantic_core", "aws_lambda_powertools", "cv2", "numpy",
                        "aws_xray_sdk", "boto3", "botocore", "imageio_ffmpeg")}
json.dump({"result": result, "origins": origins, "version": list(sys.version_info[:2]),
           "flags": [sys.flags.isolated, sys.flags.no_site],
           "libav": getattr(sys.modules.get("chalicelib.adapters.libav"), "_libs", None) is not None,
           "seconds": {"import": imported - started, "handler": done - imported}}, open(out_file, "w"))
"""


def test_the_packaged_reframe_function_finds_the_face_under_python312(synth, tmp_path):
    python = python312()
    task, opt, runtime, props = lambda_filesystem(synth, tmp_path / "lambda")
    assert not (opt / "bin" / "ffmpeg").exists()  # no ffmpeg layer: OpenCV decodes

    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        video = write_face_video(tmp_path / "face.mp4")
        version = s3.put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=video.read_bytes())["VersionId"]
        # The job's transcript, which tells the planner when people speak: nobody, here.
        transcript_key = "work/acc_artefact/vid_artefact/call_artefact/transcript.json"
        s3.put_object(Bucket=BUCKET, Key=transcript_key,
                      Body=json.dumps(Transcript(language="en", duration=SECONDS).to_dict()).encode())

        item = RenderItem(
            clip=ClipRef(index=0, id="clip_artefact", start=0.0, end=SECONDS),
            callId="call_artefact", videoId="vid_artefact", accountId="acc_artefact",
            source=SourceRef(key=SOURCE_KEY, versionId=version),
            media=Media(container="mp4", durationSeconds=SECONDS, width=W, height=H, fps=FPS, hasAudio=False,
                        hasVideo=True, videoCodec="h264", sizeBytes=video.stat().st_size),
            transcriptKey=transcript_key,
            options=JobOptions(aspectRatio=ASPECT, reframe="auto"),
        )
        event_file, out_file = tmp_path / "event.json", tmp_path / "out.json"
        event_file.write_text(json.dumps(item.wire()))

        # The stack's environment for this function; what CloudFormation resolves, made local.
        env = {k: v for k, v in props["Environment"]["Variables"].items() if isinstance(v, str)}
        assert env["KLYPH_FFMPEG"] == "/opt/bin/ffmpeg"
        env["KLYPH_FFMPEG"] = str(opt / "bin" / "ffmpeg")  # where the (absent) ffmpeg layer would put it
        home, tmp_dir = tmp_path / "home", tmp_path / "tmp"  # Lambda's writable /tmp; no ~/.aws
        home.mkdir()
        tmp_dir.mkdir()
        env.update(
            PATH="/usr/bin:/bin", HOME=str(home), TMPDIR=str(tmp_dir), LANG="C.UTF-8",
            KLYPH_AWS_ENDPOINT_URL=endpoint, KLYPH_BUCKET=BUCKET, KLYPH_TABLE="klyph-artefact",
            KLYPH_STATE_MACHINE_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:klyph-artefact",
            AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
            POWERTOOLS_METRICS_DISABLED="true",
        )
        # -I: no PYTHON* variables, no user site, no script directory on the path; -S: not even
        # the interpreter's own site-packages. The runner puts exactly Lambda's folders on the path.
        paths = [str(task), str(opt / "python"), str(runtime)]
        started = time.monotonic()
        proc = subprocess.run(
            [python, "-I", "-S", "-c", RUNNER, json.dumps(paths), str(event_file), str(out_file)],
            cwd=task, env=env, capture_output=True, text=True, timeout=600, check=False,
        )
        seconds = time.monotonic() - started
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = json.loads(out_file.read_text())
    print(f"\npipeline_reframe under Python {'.'.join(map(str, out['version']))}: {seconds:.1f} s "
          f"(import app {out['seconds']['import']:.1f} s, handler {out['seconds']['handler']:.1f} s); "
          f"plan {out['result']['reframe']}")

    # Where everything came from: the package, the layers, the runtime's SDK; nothing else.
    assert out["version"] == [3, 12] and out["flags"] == [1, 1]
    origins = {name: Path(path) if path else None for name, path in out["origins"].items()}
    for name in ("app", "chalice", "pydantic_core", "aws_lambda_powertools"):
        assert origins[name] is not None and origins[name].is_relative_to(task), (name, origins[name])
    for name in ("cv2", "numpy", "aws_xray_sdk"):  # cv2 and numpy loaded by the face finder, X-Ray by the Tracer
        assert origins[name] is not None and origins[name].is_relative_to(opt / "python"), (name, origins[name])
    for name in ("boto3", "botocore"):
        assert origins[name] is not None and origins[name].is_relative_to(runtime), (name, origins[name])
    assert origins["imageio_ffmpeg"] is None

    result = out["result"]
    assert RenderItem.model_validate(result).clip.id == "clip_artefact"
    plan = result["reframe"]
    # One person: the keyframes are sampled, decoded by the FFmpeg OpenCV's wheel bundles.
    assert out["libav"], "the keyframe reader loaded OpenCV's bundled FFmpeg inside the layer"
    assert plan["samples"] >= SECONDS and plan["withFaces"] > 0, plan
    assert plan["withFaces"] >= plan["samples"] * 0.8, plan  # a still, frontal face: found in nearly every frame
    crop_w, _, centre_x, _ = crop_box(W, H, ASPECT)
    assert not (centre_x <= FACE_X and FACE_X + FACE <= centre_x + crop_w)  # the centre crop would miss it
    for t, x in plan["keyframes"]:
        assert 0 <= t <= SECONDS
        assert x <= FACE_X and FACE_X + FACE <= x + crop_w, (t, x, crop_w)  # the whole face inside the crop

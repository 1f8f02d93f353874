"""Load on the real local stack (`make load`): concurrent creates, 20 jobs at once, route latency while they run.

Bounded in count and time, loopback only. Prints the figures it measured.
"""
from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOBS = 20
CREATES = 200


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, latencies: list[float], seconds: float) -> str:
    ms = [x * 1000 for x in latencies]
    return (f"{name:28} n={len(ms):4d}  {len(ms) / seconds:6.1f} req/s  p50 {percentile(ms, 50):7.1f} ms  "
            f"p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms")


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def test_concurrent_creates_get_distinct_slugs(stack):
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    body = {"name": "Load Test Interviews", "accountId": stack.account_id}

    def create(_):
        return timed(session.post, f"{stack.base_url}/dev/create-project", json=body, headers=headers, timeout=60)

    started = time.perf_counter()
    with cf.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(create, range(CREATES)))
    elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for _, r in results), [r.text for _, r in results if r.status_code != 200][:3]
    slugs = [r.json()["slug"] for _, r in results]
    assert len(set(slugs)) == CREATES
    assert set(slugs) == {"load-test-interviews"} | {f"load-test-interviews-{n}" for n in range(2, CREATES + 1)}
    print("\n" + report("create-project x200 (32 thr)", [t for t, _ in results], elapsed))


@pytest.mark.media
def test_twenty_jobs_at_once_all_finish_consistently(stack, small_speech_video):
    client = stack.client()
    project = client.create_project("Load", stack.account_id)
    videos = [client.upload_video(small_speech_video, stack.account_id, project["id"]) for _ in range(JOBS)]
    options = {"maxClips": 2, "minDuration": 5, "maxDuration": 8, "aspectRatio": "9:16"}

    started = time.perf_counter()
    with cf.ThreadPoolExecutor(JOBS) as pool:
        call_ids = list(pool.map(lambda v: client.submit(v["id"], **options), videos))
    assert len(set(call_ids)) == JOBS

    # While the jobs run, a steady stream of reads (about 20 requests a second).
    latencies: dict[str, list[float]] = {
        "process-video-result": [], "list-clips": [], "video-summary": [], "health": []
    }
    stop = threading.Event()

    def reader():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {stack.api_key}"
        i = 0
        while not stop.is_set():
            video, call = videos[i % JOBS]["id"], call_ids[i % JOBS]
            for route, url in (
                ("process-video-result", f"{stack.base_url}/dev/process-video-result?callId={call}"),
                ("list-clips", f"{stack.base_url}/dev/list-clips?videoId={video}"),
                ("video-summary", f"{stack.base_url}/dev/video-summary?videoId={video}"),
                ("health", f"{stack.base_url}/health"),
            ):
                seconds, resp = timed(session.get, url, timeout=60)
                assert resp.status_code in (200, 202), resp.text
                latencies[route].append(seconds)
            i += 1
            time.sleep(0.2)

    read_started = time.perf_counter()
    with cf.ThreadPoolExecutor(1) as pool:
        reading = pool.submit(reader)
        results = [client.wait(c, timeout=600, interval=1.0) for c in call_ids]
        stop.set()
        reading.result()
    read_elapsed = time.perf_counter() - read_started
    elapsed = time.perf_counter() - started

    clips_total = 0
    for video, result in zip(videos, results):
        assert result["status"] == "succeeded", result
        summary = client.video_summary(video["id"])
        assert summary["video"]["status"] == "ready"
        counts = summary["counts"]
        assert (counts["ready"] == counts["total"] == len(result["clips"]) >= 1
                and counts["failed"] == counts["draft"] == 0)
        for clip in client.list_clips(video["id"]):
            assert clip["status"] == "ready"
            head = requests.get(clip["preview_url"], timeout=60)
            assert head.status_code == 200 and len(head.content) > 1000
            clips_total += 1
    print(f"\n{JOBS} jobs, {clips_total} clips rendered, all consistent, in {elapsed:.1f} s "
          f"({clips_total / elapsed:.2f} clips/s)")
    for route, values in latencies.items():
        print(report(f"{route} (during jobs)", values, read_elapsed))

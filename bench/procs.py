"""Measuring processes: a sampler of a process and its descendants from ``/proc`` (RSS, lifetimes,
argv), and running a command to completion with its wall time, CPU time and peak memory."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def read_file(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return None


HOST_INTERVAL = 0.25  # seconds between two reads of /proc/stat by the sampler


def host_cpu() -> tuple[float, int, int]:
    """(time, all CPU jiffies, stolen jiffies) from /proc/stat's ``cpu`` line.

    Steal is the time this VM's vCPUs were ready to run and the host ran something else. On the
    shared 2-core machine it moves from none to most of a core within minutes, and it takes
    more from some work than from other (an x264 encode lost 0.6 of a core where two busy loops
    beside it lost 0.1), so two runs are only comparable with it in view."""
    fields = (read_file("/proc/stat") or "cpu").splitlines()[0].split()[1:9]
    jiffies = [int(f) for f in fields] + [0] * (8 - len(fields))
    return time.time(), sum(jiffies), jiffies[7]


def stolen_cores(
    samples: Sequence[Sequence[float]], start: float, end: float, cores: int | None = None
) -> float | None:
    """The cores (of ``cores``, this machine's by default) the host took on average between
    ``start`` and ``end``, from ``host_cpu`` samples: the last sample at or before each end
    (None without two distinct samples)."""
    before = [s for s in samples if s[0] <= start] or list(samples[:1])
    upto = [s for s in samples if s[0] <= end]
    if not before or not upto or upto[-1][1] <= before[-1][1]:
        return None
    (_, total_a, steal_a), (_, total_b, steal_b) = before[-1], upto[-1]
    return (steal_b - steal_a) / (total_b - total_a) * (cores or os.cpu_count() or 1)


def stolen_since(before: tuple[float, int, int]) -> float | None:
    """The cores the host took from a ``host_cpu`` reading until now."""
    return stolen_cores([before, host_cpu()], before[0], math.inf)


def _status_kb(pid: int, *fields: str) -> dict[str, int]:
    text = read_file(f"/proc/{pid}/status") or ""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[key] = int(value.split()[0]) * 1024
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        text = read_file(f"/proc/{pid}/task/{tid}/children")
        if text:
            kids += [int(k) for k in text.split()]
    return kids


@dataclass
class ChildRecord:
    pid: int
    argv: list[str]
    started: float  # fork time, from /proc/PID/stat (10 ms resolution)
    last_seen: float
    peak_rss: int  # after exec: a fork's pre-exec copy of the parent does not count
    gone_seen: float | None = None  # first sample that no longer found it

    @property
    def first_seen(self) -> float:
        return self.started

    @property
    def ended(self) -> float:
        return (self.last_seen + self.gone_seen) / 2 if self.gone_seen else self.last_seen

    @property
    def seconds(self) -> float:
        return self.ended - self.started


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _boot_epoch() -> float:
    uptime = read_file("/proc/uptime")
    return time.time() - float(uptime.split()[0]) if uptime else 0.0


def _start_time(pid: int, boot: float) -> float | None:
    stat = read_file(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return boot + int(fields[19]) / _CLK_TCK  # field 22, starttime, in clock ticks since boot


class ProcessSampler:
    """Samples a process's RSS and its descendants from /proc every ``interval`` seconds.

    Children are found through /proc/PID/task/*/children (cheap, unlike scanning all of /proc).
    A child's start is its kernel start time; its end is taken halfway between the last sample
    that saw it and the first that did not, so lifetimes are good to about half an interval. Peaks
    are VmHWM after exec: a fork still running its parent's image does not count (which is also
    why ``wait4``'s ru_maxrss is no use here: Linux carries the parent's peak into the child's).
    """

    def __init__(
        self,
        pid: int,
        interval: float = 0.02,
        on_exec: Callable[[list[str]], None] | None = None,
        ignore_argv: list[str] | None = None,
    ):
        self.pid = pid
        self.interval = interval
        self.on_exec = on_exec  # called with a child's argv once it has exec'd (on the sampling thread)
        self.ignore_argv = ignore_argv  # the root's argv before it exec'd (our own): not yet the measured program
        self.own_peak = 0
        self.samples: list[tuple[float, int, int]] = []  # (time, own RSS, descendants' RSS)
        self.host: list[tuple[float, int, int]] = [host_cpu()]  # every HOST_INTERVAL: ``host_cpu``
        self.children: dict[int, ChildRecord] = {}
        self._boot = _boot_epoch()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ProcessSampler:
        self._thread.start()
        return self

    def stop(self) -> ProcessSampler:
        self._stop.set()
        self._thread.join()
        return self

    def _descendants(self) -> list[int]:
        out, todo = [], _children(self.pid)
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += _children(pid)
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            parent_argv = [a for a in (read_file(f"/proc/{self.pid}/cmdline") or "").split("\0") if a]
            status = _status_kb(self.pid, "VmRSS", "VmHWM")
            if not status:
                break
            if self.ignore_argv is not None and parent_argv == self.ignore_argv:
                self._stop.wait(self.interval / 4)
                continue
            own = status.get("VmRSS", 0)
            self.own_peak = max(self.own_peak, status.get("VmHWM", 0))
            kids_rss = 0
            alive = set()
            for pid in self._descendants():
                status = _status_kb(pid, "VmRSS", "VmHWM")
                if not status:  # gone, or a zombie waiting to be reaped
                    continue
                alive.add(pid)
                argv = [a for a in (read_file(f"/proc/{pid}/cmdline") or "").split("\0") if a]
                rec = self.children.get(pid)
                execd = False
                if rec is None:
                    rec = self.children[pid] = ChildRecord(pid, argv, _start_time(pid, self._boot) or now, now, 0)
                    execd = argv != parent_argv
                elif argv != rec.argv:  # exec'd since the last sample
                    rec.argv, rec.peak_rss, execd = argv, 0, True
                if execd and self.on_exec:
                    with contextlib.suppress(Exception):  # a capture must never stop the sampling
                        self.on_exec(argv)
                rec.last_seen = now
                if argv != parent_argv:
                    kids_rss += status.get("VmRSS", 0)
                    rec.peak_rss = max(rec.peak_rss, status.get("VmHWM", 0))
            for pid, rec in self.children.items():
                if pid not in alive and rec.gone_seen is None:
                    rec.gone_seen = now
            self.samples.append((now, own, kids_rss))
            if now - self.host[-1][0] >= HOST_INTERVAL:
                self.host.append(host_cpu())
            self._stop.wait(self.interval)

    def peak(self, start: float = 0.0, end: float = math.inf) -> dict[str, int]:
        window = [s for s in self.samples if start <= s[0] <= end]
        if not window:
            return {"own": 0, "descendants": 0, "total": 0, "own_at_start": 0}
        return {
            "own": max(s[1] for s in window),
            "descendants": max(s[2] for s in window),
            "total": max(s[1] + s[2] for s in window),
            "own_at_start": window[0][1],
        }


def run_measured(cmd: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> dict[str, Any]:
    """Run a command to completion: wall seconds, exit code, CPU seconds, the program's own peak
    RSS (VmHWM after exec), the peak RSS summed over it and its descendants (sampled every 10 ms)
    and the cores the host stole meanwhile (``host_cpu``)."""
    me = [a for a in (read_file("/proc/self/cmdline") or "").split("\0") if a]
    host_before = host_cpu()
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        sampler = ProcessSampler(proc.pid, 0.01, ignore_argv=me).start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        err.seek(0)
        output = err.read().decode(errors="replace")
    return {
        "seconds": seconds,
        "returncode": proc.returncode,
        "max_rss": sampler.own_peak or None,
        "tree_peak_rss": sampler.peak()["total"] or None,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "stolen_cores": stolen_since(host_before),
        "output_tail": output[-2000:],
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]

"""Download + resize throughput: yamlset's pipeline against img2dataset, on loopback.

    python benchmarks/collect.py [--images 1000] [--threads 16] [--repeat 1]
        [--skip-img2dataset] [--skip-apply]

Generates (once, cached in benchmarks/.work/) a corpus of photo-sized JPEGs, serves it
from a loopback HTTP/1.1 server in its own process, then runs each contender as a
child process and measures it from outside, the same way for all:

- wall time from spawning the child to its exit (interpreter start-up included);
- CPU time of the child and all its descendants (RUSAGE_CHILDREN around the run);
- peak RSS: the largest sum of RSS over the child's process tree, sampled every 50 ms
  (shared pages of forked workers count once per process, so this overstates a little).

With --repeat N the contenders run N times, interleaved, so that load from other jobs on
the machine hits all of them alike; the summary gives each one's median and range.

Contenders: yamlset (fetch_and_derive to 299x299 crop JPEG q90, pHash on),
yamlset apply (the user's path: `python -m yamlset apply SPEC --yes --until resize` on a
spec listing the same URLs, fresh state each run, so SQLite writes, dedupe and plan
included), img2dataset (the baseline, in its own venv), and a ceiling: Pillow draft
decode and resize of the same files from disk in a process pool, no network, no encode.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process, Queue
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
SIZES = [(3000, 2000), (2000, 3000), (4000, 3000), (2400, 1600), (3264, 2448), (2048, 1536)]


# -- corpus ---------------------------------------------------------------------------------


def photo(seed: int) -> bytes:
    """A deterministic photo-like JPEG: smooth colour fields, shapes and grain, 0.5-2 MB."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    w, h = SIZES[seed % len(SIZES)]
    cells = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    base = Image.fromarray(cells).resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(int(rng.integers(10, 40))):
        x, y, r = (
            int(rng.integers(0, w)),
            int(rng.integers(0, h)),
            int(rng.integers(w // 50, w // 6)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((x, y, x + r, y + int(r * rng.uniform(0.5, 1.5))), fill=colour)
    grain = Image.effect_noise((w // 2, h // 2), 60).resize((w, h), Image.Resampling.BILINEAR)
    weight = Image.new("L", (w, h), int(rng.integers(200, 235)))
    im = Image.composite(base, Image.merge("RGB", (grain, grain, grain)), weight)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=int(rng.integers(85, 93)))
    return buf.getvalue()


def _write_photo(path: Path) -> int:
    data = photo(int(path.stem))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def make_corpus(n: int) -> list[Path]:
    corpus = WORK / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    paths = [corpus / f"{i:05d}.jpg" for i in range(n)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"generating {len(missing)} photos in {corpus} (once) ...", flush=True)
        with ProcessPoolExecutor() as pool:
            list(pool.map(_write_photo, missing, chunksize=8))
    total = sum(p.stat().st_size for p in paths)
    print(f"corpus: {n} JPEGs, {total / n / 1e6:.2f} MB mean, {total / 1e9:.2f} GB", flush=True)
    return paths


# -- loopback server ------------------------------------------------------------------------


class _Files(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = WORK / "corpus"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.root / Path(self.path.split("?", 1)[0]).name
        try:
            body = path.read_bytes()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(ports: Queue[int]) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    httpd.daemon_threads = True
    httpd.request_queue_size = 128
    ports.put(httpd.server_address[1])
    httpd.serve_forever()


# -- contenders (each runs as `collect.py --run NAME ...` in a child process) ---------------


def run_yamlset(urls: list[str], out: Path, threads: int) -> tuple[int, float]:
    """Images made, and the CPU seconds of this (the parent) process alone."""
    sys.path.insert(0, str(ROOT))
    from yamlset.download import make_session
    from yamlset.pipeline import Job, fetch_and_derive
    from yamlset.spec.model import CollectSpec, ImageSpec

    collect = CollectSpec(threads=threads, retries=0)
    image = ImageSpec(size=(299, 299), fit="crop", format="jpeg", quality=90)
    session = make_session("benchmark@example.org", pool_size=threads)
    jobs = (Job(str(i), url) for i, url in enumerate(urls))
    results = fetch_and_derive(
        jobs,
        cache_dir=out / "cache",
        derived_dir=out / "derived",
        image=image,
        collect=collect,
        session=session,
    )
    made = sum(r.ok for r in results)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return made, own.ru_utime + own.ru_stime


APPLY_SPEC = """\
version: 1
name: bench
classes:
  photos:
    title: Photos
    urls: urls.txt
image: {{size: [299, 299], fit: crop, quality: 90}}
collect: {{threads: {threads}, dedupe: perceptual}}
crowd: {{backend: files}}
hosting: {{type: static, base_url: "http://127.0.0.1:9/x/"}}  # never contacted
"""


def apply_command(url_file: Path, folder: Path, threads: int) -> list[str]:
    """`yamlset apply --until resize` on a fresh spec folder listing the corpus URLs."""
    shutil.copyfile(url_file, folder / "urls.txt")
    spec = folder / "bench.yaml"
    spec.write_text(APPLY_SPEC.format(threads=threads))
    return [sys.executable, "-m", "yamlset", "apply", str(spec), "--yes", "--until", "resize"]


def _count_derived(folder: Path) -> Callable[[str], int]:
    """Images the apply run derived, from its state database (read after it exited)."""

    def count(_stdout: str) -> int:
        import sqlite3

        db = sqlite3.connect(folder / ".yamlset" / "bench" / "state.db")
        try:
            return db.execute("SELECT COUNT(*) FROM derived WHERE file IS NOT NULL").fetchone()[0]
        finally:
            db.close()

    return count


def _decode_one(path: str) -> int:
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        scale = max(299 / w, 299 / h)
        im.draft("RGB", (int(w * scale + 1), int(h * scale + 1)))
        small = im.resize((299, 299), Image.Resampling.LANCZOS)
    return small.width


def run_ceiling(paths: list[str]) -> int:
    with ProcessPoolExecutor() as pool:
        return sum(1 for _ in pool.map(_decode_one, paths, chunksize=4))


def img2dataset_command(url_file: Path, out: Path, threads: int, n: int) -> list[str]:
    exe = WORK / "img2dataset-venv" / "bin" / "img2dataset"
    if not exe.exists():
        print("installing img2dataset into benchmarks/.work/img2dataset-venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(exe.parent.parent)], check=True)
        pip = exe.parent / "pip"
        subprocess.run([str(pip), "install", "-q", "img2dataset"], check=True)
    return [
        str(exe),
        "--url_list",
        str(url_file),
        "--input_format",
        "txt",
        "--output_folder",
        str(out),
        "--output_format",
        "files",
        "--image_size",
        "299",
        "--resize_mode",
        "center_crop",
        "--encode_quality",
        "90",
        "--thread_count",
        str(threads),
        "--processes_count",
        "2",
        # several shards, or img2dataset's second process has nothing to do
        "--number_sample_per_shard",
        str(max(1, n // 8)),
        "--disable_all_reencoding",
        "False",
        "--retries",
        "0",
        "--timeout",
        "20",
        "--distributor",
        "multiprocessing",
        "--enable_wandb",
        "False",
    ]


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    name: str
    images: int  # produced
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    parent_cpu_s: float | None = None  # yamlset's own process, without its workers


def _tree(pid: int) -> tuple[int, set[int]]:
    """Sum of RSS over the process tree under pid, and the pids in it."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, set()
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total, {p.pid for p in procs}


def _become_subreaper() -> None:
    """Adopt the orphans of the children we measure, so their CPU time reaches RUSAGE_CHILDREN.

    A child's descendants count there only once someone waits for them. A multiprocessing
    forkserver (and the workers it forks, and the resource tracker) is never waited for by
    the process that started it: when that process exits it is reparented to init and its
    CPU time is lost. As a subreaper (Linux), this process adopts and reaps it instead.
    """
    import ctypes

    pr_set_child_subreaper = 36
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def _reap(pids: set[int], timeout: float = 10.0) -> int:
    """Wait for those of pids that are (or become, as their parents exit) our children."""
    reaped = 0
    left = set(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        waiting = False
        for pid in sorted(left):
            try:
                got, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours (yet), or already gone
                continue
            if got:
                left.discard(pid)
                reaped += 1
            else:
                waiting = True  # adopted, still running: a forkserver winding down
        if not waiting and not any(_adopted(pid) for pid in left):
            break
        time.sleep(0.01)
    return reaped


def _adopted(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).ppid() == os.getpid()
    except psutil.Error:
        return False


def measure(
    name: str, cmd: list[str], count: Callable[[str], int], *, parent: str | None = None
) -> Figures:
    """Run cmd and measure it; `parent` says where the child's own CPU comes from: "stdout"
    (it prints `cpu=S`), or "exit" (workers forked by a forkserver, which the child never
    waits for: its own CPU is what RUSAGE_CHILDREN gained by its exit)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # img2dataset's albumentations asks PyPI for a newer version at import, in every
    # process: network time that is no part of the work measured here.
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    peak = 0
    seen: set[int] = set()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            rss, pids = _tree(proc.pid)
            peak = max(peak, rss)
            seen.update(pids)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    at_exit = resource.getrusage(resource.RUSAGE_CHILDREN)
    orphans = _reap(seen - {proc.pid})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        print(f"{name} exited with {proc.returncode}", file=sys.stderr)
    parent_cpu = None
    if parent == "stdout":
        parent_cpu = _parent_cpu(stdout)
    elif parent == "exit" and orphans:
        parent_cpu = (at_exit.ru_utime - before.ru_utime) + (at_exit.ru_stime - before.ru_stime)
    return Figures(name, count(stdout), wall, cpu, peak / 1e6, parent_cpu)


def _count_files(folder: Path) -> Callable[[str], int]:
    return lambda _stdout: sum(1 for _ in folder.rglob("*.jpg"))


def _count_stdout(stdout: str) -> int:
    return int(stdout.split()[-2 if "cpu=" in stdout else -1]) if stdout.strip() else 0


def _parent_cpu(stdout: str) -> float | None:
    last = stdout.split()[-1] if stdout.strip() else ""
    return float(last[4:]) if last.startswith("cpu=") else None


def report(runs: list[list[Figures]]) -> None:
    print()
    print(
        f"{'run':>4} {'contender':<22}{'images':>8}{'images/s':>10}{'x img2ds':>10}"
        f"{'CPU-ms/img':>12}{'(parent)':>10}{'peak RSS MB':>13}"
    )
    ratios: dict[str, list[float]] = {}
    for i, rows in enumerate(runs, start=1):
        base = next((r for r in rows if r.name == "img2dataset"), None)
        for r in rows:
            rate = r.images / r.wall_s if r.wall_s else 0.0
            ratio = rate / (base.images / base.wall_s) if base and base.images else None
            if ratio is not None:
                ratios.setdefault(r.name, []).append(ratio)
            cpu_ms = 1000 * r.cpu_s / max(1, r.images)
            own = (
                "" if r.parent_cpu_s is None else f"{1000 * r.parent_cpu_s / max(1, r.images):.1f}"
            )
            print(
                f"{i:>4} {r.name:<22}{r.images:>8}{rate:>10.1f}"
                f"{'-' if ratio is None else f'{ratio:.2f}':>10}{cpu_ms:>12.1f}{own:>10}"
                f"{r.peak_rss_mb:>13.0f}"
            )
    if len(runs) > 1:
        print()
        for name in [r.name for r in runs[0]]:
            mine = [r for rows in runs for r in rows if r.name == name]
            rates = [r.images / r.wall_s for r in mine]
            cpus = [1000 * r.cpu_s / max(1, r.images) for r in mine]
            line = f"{name:<22} images/s {_spread(rates)}  CPU-ms/img {_spread(cpus)}"
            if name in ratios:
                line += f"  x img2ds {_spread(ratios[name], digits=2)}"
            print(line)


def _spread(values: list[float], *, digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"[{min(values):.{digits}f}-{max(values):.{digits}f}]"
    )


def main() -> None:
    args = _parse()
    if args.run:
        _child(args)
        return
    paths = make_corpus(args.images)
    _become_subreaper()
    ports: Queue[int] = Queue()
    server = Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    urls = [f"http://127.0.0.1:{port}/{p.name}" for p in paths]
    url_file = WORK / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    path_file = WORK / "paths.txt"
    path_file.write_text("\n".join(str(p) for p in paths) + "\n")
    me = [sys.executable, str(Path(__file__).resolve())]
    runs = []
    try:
        for _ in range(args.repeat):
            runs.append(_run_all(args, me, url_file, path_file, len(urls)))
    finally:
        server.terminate()
        server.join()
    report(runs)


def _run_all(
    args: argparse.Namespace, me: list[str], url_file: Path, path_file: Path, n: int
) -> list[Figures]:
    rows = []
    out = _fresh(WORK / "out-yamlset")
    cmd = [
        *me,
        "--run",
        "yamlset",
        "--list",
        str(url_file),
        "--out",
        str(out),
        "--threads",
        str(args.threads),
    ]
    rows.append(measure("yamlset", cmd, _count_stdout, parent="stdout"))
    if not args.skip_apply:
        folder = _fresh(WORK / "out-apply")
        cmd = apply_command(url_file, folder, args.threads)
        rows.append(measure("yamlset apply", cmd, _count_derived(folder), parent="exit"))
    if not args.skip_img2dataset:
        out = _fresh(WORK / "out-img2dataset")
        cmd = img2dataset_command(url_file, out, args.threads, n)
        rows.append(measure("img2dataset", cmd, _count_files(out)))
    cmd = [*me, "--run", "ceiling", "--list", str(path_file)]
    rows.append(measure("ceiling (decode only)", cmd, _count_stdout))
    return rows


def _child(args: argparse.Namespace) -> None:
    lines = Path(args.list).read_text().split()
    if args.run == "yamlset":
        made, cpu_s = run_yamlset(lines, Path(args.out), args.threads)
        print(made, f"cpu={cpu_s:.3f}")
    else:
        print(run_ceiling(lines))


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--repeat", type=int, default=1, help="runs of every contender, interleaved")
    p.add_argument("--skip-img2dataset", action="store_true")
    p.add_argument("--skip-apply", action="store_true", help="no `yamlset apply` row")
    p.add_argument("--run", choices=["yamlset", "ceiling"], help=argparse.SUPPRESS)
    p.add_argument("--list", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

"""The chat relay's cost: the same prompt streamed straight from the model server and through Pipulate.

    .venv/bin/python bench/chat_relay.py --wait-quiet 300     # 20 pairs: about 2 minutes on 2 idle cores
    .venv/bin/python bench/chat_relay.py --pairs 5            # smoke run
    .venv/bin/python bench/chat_relay.py --json               # machine-readable results on stdout
    .venv/bin/python bench/chat_relay.py --trace              # + where the relayed time and CPU go
    .venv/bin/python bench/chat_relay.py --whatif no-deflate  # the app with a candidate change

It starts llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`, SmolLM2-135M, 2
threads) and `python -m pipulate serve --llm-url ... --model smollm2`, both on 127.0.0.1, then
runs N pairs, the order alternating from pair to pair (direct first, then relayed first, ...):

  direct   an httpx streaming POST /v1/chat/completions (stream: true) on one pooled AsyncClient,
           SSE parsed the way pipulate/_llm/openai.py parses it, with the exact messages list the
           app sends (ChatApp.system_prompt + ChatHistory.for_model, computed by the app's code);
  relayed  the page WebSocket (/ws, Origin http://127.0.0.1:PORT): {"action": "chat", "message":
           PROMPT}, counting the token frames `<div id="reply-…" hx-swap-oob="beforeend">` until
           the final `hx-swap-oob="outerHTML"` frame. The profile's history is cleared first
           (POST /chat/clear), so the app sends the same two messages as the direct request.

Measured for both: time to first token (send -> first token), tokens per second (fragments after
the first / time from the first to the last), and the gaps between fragments; per pair, relayed
minus direct (and relayed / direct for throughput). Sampling is the server's default (temperature
0.8), so replies differ. The app sends no max_tokens, so the prompt asks for a fixed length (300
words: SmolLM2 always writes more than 100 tokens) and both streams are cut at --max-tokens
fragments: the direct response is closed, the relayed reply is stopped with {"action": "stop"},
as the Stop button does. Either way the model server stops at its next token and the next request
opens a new connection, on both paths. Each reply's text is re-tokenized by the model server
(/extras/tokenize/count) to check that a fragment carries one token on both paths: a relay that
held tokens back would send fewer, fatter frames, and bunched gaps.

CPU time (Linux /proc, all threads) is counted for the app and the model server around each run,
and for other processes on the machine around each pair: timings are only as good as the machine
is quiet, so the targets are shown for all pairs and for the pairs during which other processes
used < 5% of the CPU. --wait-quiet waits (bounded) for such a moment before measuring.

All traffic goes to 127.0.0.1; every loop is bounded by count and time; both servers are stopped by
their PIDs. --trace runs the app under bench/chat_relay_trace.py (timestamps along its path),
--whatif under bench/chat_relay_whatif.py (candidate changes applied at run time); neither edits
pipulate/.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import websockets

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_MODEL_FILE = REPO_DIR / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
DEFAULT_PROMPT = "Write a story of exactly 300 words about a cat named Tom."  # SmolLM2 writes 300+ tokens

TOKEN = re.compile(r'^<div id="(reply-[\w-]+)" hx-swap-oob="beforeend">(.*)</div>$', re.S)
PENDING = re.compile(r'<div class="msg assistant streaming" id="(reply-[\w-]+)"')
FINAL = re.compile(r'<div class="msg assistant" id="(reply-[\w-]+)" hx-swap-oob="outerHTML">')
ERROR = re.compile(r'<div class="msg error" role="alert">(.*?)</div>', re.S)

# The targets.
TTFT_TARGET_MS = 2.0  # median of paired differences (relayed - direct)
THROUGHPUT_TARGET = 0.98  # median of paired ratios (relayed / direct)
GAP_TARGET_MS = 2.0  # median of paired differences of a run's p50 / p90 gap
BURST_TARGET = 0.02  # relayed - direct share of "bunched" gaps (< BURST_FACTOR x the run's median gap)
BURST_FACTOR = 0.2
FRAG_PER_TOKEN_TARGET = 0.02  # |relayed - direct| fragments per token, median over pairs
QUIET_SHARE = 0.05  # a pair is "quiet" when other processes used less than this share of the machine's CPU


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment() -> dict[str, str]:
    """The environment without PIPULATE_* / OLLAMA_HOST: the app runs on its built-in defaults
    (plus the command line), so the system prompt the benchmark computes is the one it uses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPULATE_") and k != "OLLAMA_HOST"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Process:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to this PID, SIGKILL to the same PID if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def spawn(name: str, argv: list[str], workdir: Path, env: dict[str, str]) -> Process:
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env,
                                   stdin=subprocess.DEVNULL)
    return Process(name, process, log_path)


def wait_for_200(proc: Process, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.log()[-3000:]}")
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f}s:\n{proc.log()[-3000:]}")


def start_llama(model_file: Path, port: int, workdir: Path, env: dict[str, str], threads: int) -> Process:
    proc = spawn("llama-server", [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_threads", str(threads), "--interrupt_requests", "False",
    ], workdir, env)
    try:
        wait_for_200(proc, f"http://127.0.0.1:{port}/v1/models", timeout=120)
    except Exception:
        proc.stop()
        raise
    return proc


def start_app(port: int, data_dir: Path, llm_url: str, workdir: Path, env: dict[str, str],
              trace_file: Path | None = None, whatif: str = "") -> Process:
    launcher = ["-m", "pipulate"]
    if trace_file is not None:  # the same app, with timestamps along the chat's path
        launcher = [str(BENCH_DIR / "chat_relay_trace.py")]
        env = {**env, "BENCH_CHAT_TRACE": str(trace_file)}
    elif whatif:  # the app with candidate changes applied at run time
        launcher = [str(BENCH_DIR / "chat_relay_whatif.py")]
    if whatif:
        env = {**env, "BENCH_CHAT_WHATIF": whatif}
    proc = spawn("pipulate", [
        sys.executable, *launcher, "serve", "--port", str(port), "--data-dir", str(data_dir),
        "--llm-url", llm_url, "--model", MODEL_ALIAS,
    ], workdir, env)
    try:
        wait_for_200(proc, f"http://127.0.0.1:{port}/", timeout=60)
    except Exception:
        proc.stop()
        raise
    return proc


# --- what the app sends ------------------------------------------------------------------------


def app_messages(prompt: str, llm_url: str, workdir: Path) -> tuple[list[dict], str]:
    """The messages list ChatApp.reply() sends for `prompt` in an empty history, computed by the
    app's own code (ChatApp.system_prompt, ChatHistory.for_model) on the app's default settings."""
    from pipulate._chat.history import ChatHistory
    from pipulate._config import Settings
    from pipulate._database import CORE_TABLES, migrate, open_database
    from pipulate.apps.chat import ChatApp

    settings = Settings(llm_url=llm_url, model=MODEL_ALIAS, data_dir=workdir / "messages-db")
    db = open_database(workdir / "messages-db" / "messages.db")
    migrate(db, CORE_TABLES)
    history = ChatHistory(db)
    chat = ChatApp(SimpleNamespace(settings=settings, store={}, chat=SimpleNamespace(history=history)))
    try:
        history.add(1, "user", prompt.strip())  # the app stores the message stripped, then asks for_model
        messages = history.for_model(1, chat.system_prompt, settings.chat_context_tokens)
    finally:
        asyncio.run(chat.model_server.aclose())
        db.conn.close()
    return messages, chat.model()


# --- one run -----------------------------------------------------------------------------------


@dataclass
class Run:
    path: str  # "direct" or "relayed"
    pair: int
    order: int  # 0: ran first in its pair, 1: second
    ttft_ms: float = 0.0
    fragments: int = 0  # token fragments counted (up to the cap)
    extra_fragments: int = 0  # fragments that arrived after the cap (relayed: before Stop took effect)
    stream_s: float = 0.0  # first -> last counted fragment
    tokens_per_s: float = 0.0
    capped: bool = False
    gaps_ms: list[float] = field(default_factory=list)
    text: str = ""
    tokens: int | None = None  # the text re-tokenized by the model server
    ack_ms: float | None = None  # relayed: send -> the echo of the user's message
    final_ms: float | None = None  # relayed: last counted token -> the final (Markdown) frame
    # CPU time spent from the send to the end of the stream, all threads (/proc/PID/task/*/schedstat):
    app_cpu_ms: float = 0.0  # the Pipulate server (about 0 on a direct run)
    llama_cpu_ms: float = 0.0  # the model server: the same work on both paths
    client_cpu_ms: float = 0.0  # this process, parsing SSE or WebSocket frames
    wall_s: float = 0.0  # the send to the end of the stream (relayed: the final frame)
    # CPU time between the first and the last counted fragment (capped runs only): the streaming itself
    app_stream_cpu_ms: float | None = None
    llama_stream_cpu_ms: float | None = None
    reply_id: str = ""
    others_cpu_share: float = 0.0  # the machine's CPU other processes took during this run's pair
    sent_at: float = 0.0  # perf_counter() (CLOCK_MONOTONIC) at the send, for --trace
    token_at: list[float] = field(default_factory=list, repr=False)  # likewise, each counted fragment

    def stream_cpu(self, first: tuple[int, int], last: tuple[int, int]) -> None:
        self.app_stream_cpu_ms = (last[0] - first[0]) / 1e6
        self.llama_stream_cpu_ms = (last[1] - first[1]) / 1e6

    def finish(self, t0: float, times: list[float]) -> None:
        self.sent_at, self.token_at = t0, times
        self.fragments = len(times)
        if times:
            self.ttft_ms = (times[0] - t0) * 1e3
            self.gaps_ms = [(b - a) * 1e3 for a, b in zip(times, times[1:], strict=False)]
            self.stream_s = times[-1] - times[0]
            self.tokens_per_s = (len(times) - 1) / self.stream_s if self.stream_s > 0 else 0.0


async def run_direct(client: httpx.AsyncClient, url: str, model: str, messages: list[dict], cap: int,
                     pair: int, order: int, probe) -> Run:
    run = Run("direct", pair, order)
    body = {"model": model, "messages": messages, "stream": True}
    parts: list[str] = []
    times: list[float] = []
    t0 = time.perf_counter()
    async with client.stream("POST", f"{url}/v1/chat/completions", json=body,
                             headers={"Accept": "text/event-stream"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"direct: {response.status_code} {(await response.aread())[:300]!r}")
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            chunk = json.loads(payload)
            if "error" in chunk:
                raise RuntimeError(f"direct: the server reported {chunk['error']}")
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    times.append(time.perf_counter())
                    parts.append(content)
                    if len(times) == 1:
                        cpu_first = probe()
            if cap and len(times) >= cap:
                run.capped = True
                run.stream_cpu(cpu_first, probe())
                break  # leaving the block closes the response: the server stops at its next token
    run.finish(t0, times)
    run.text = "".join(parts)
    return run


async def clear_history(client: httpx.AsyncClient, app_url: str) -> None:
    response = await client.post(f"{app_url}/chat/clear", headers={"HX-Request": "true"})
    if response.status_code != 200:
        raise RuntimeError(f"POST /chat/clear answered {response.status_code}: {response.text[:200]}")


async def run_relayed(ws, prompt: str, cap: int, pair: int, order: int, timeout: float, probe) -> Run:
    run = Run("relayed", pair, order)
    parts: list[str] = []
    times: list[float] = []
    reply_id = None
    stop_sent = False
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    await ws.send(json.dumps({"action": "chat", "message": prompt}))
    while True:
        frame = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
        now = time.perf_counter()
        if reply_id is None:
            if (error := ERROR.search(frame)) and not PENDING.search(frame):
                raise RuntimeError(f"relayed: the app answered {html.unescape(error.group(1))!r}")
            if match := PENDING.search(frame):
                reply_id = run.reply_id = match.group(1)
                run.ack_ms = (now - t0) * 1e3
            continue
        if (match := TOKEN.match(frame)) and match.group(1) == reply_id:
            if stop_sent:
                run.extra_fragments += 1
                continue
            times.append(now)
            parts.append(html.unescape(match.group(2)))
            if len(times) == 1:
                cpu_first = probe()
            if cap and len(times) >= cap:
                run.capped = True
                run.stream_cpu(cpu_first, probe())
                stop_sent = True
                await ws.send(json.dumps({"action": "stop"}))  # what the Stop button sends
            continue
        if (match := FINAL.search(frame)) and match.group(1) == reply_id:
            if times:
                run.final_ms = (now - times[-1]) * 1e3
            if ERROR.search(frame):
                raise RuntimeError(f"relayed: the reply failed: {html.unescape(ERROR.search(frame).group(1))!r}")
            break
    run.finish(t0, times)
    run.text = "".join(parts)
    return run


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of `pid` so far, in ns (Linux schedstat; 0 where unavailable)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total


def process_cpu_ns(pid: int) -> int:
    """CPU time of `pid` so far, threads that have ended included, in ns (/proc/PID/stat: 10 ms ticks).
    For the model server, whose compute threads come and go (their schedstat would vanish with them)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return (int(fields[11]) + int(fields[12])) * 10**9 // os.sysconf("SC_CLK_TCK")


# --- statistics --------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Percentile with linear interpolation (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def burst_share(gaps: list[float]) -> float:
    """Share of gaps far shorter than the run's median gap: tokens that arrived bunched together,
    the trace a relay leaves when it holds a token back and then sends it with the next one."""
    if len(gaps) < 2:
        return 0.0
    threshold = BURST_FACTOR * statistics.median(gaps)
    return sum(1 for gap in gaps if gap < threshold) / len(gaps)


def per_token(runs: list[Run], attribute: str, idle_rate: float = 0.0) -> float:
    """µs of CPU per fragment while streaming, over the runs that have the figure."""
    runs = [r for r in runs if getattr(r, attribute) is not None and r.fragments > 1]
    if not runs:
        return float("nan")
    cpu_ms = sum(getattr(r, attribute) - idle_rate * r.stream_s * 1e3 for r in runs)
    return 1e3 * cpu_ms / sum(r.fragments - 1 for r in runs)


def summarize(pairs: list[tuple[Run, Run]]) -> dict:
    def per_path(runs: list[Run]) -> dict:
        gaps = [g for r in runs for g in r.gaps_ms]
        return {
            "ttft_ms_p50": pct([r.ttft_ms for r in runs], 50),
            "ttft_ms_p90": pct([r.ttft_ms for r in runs], 90),
            "tokens_per_s_p50": pct([r.tokens_per_s for r in runs], 50),
            "tokens_per_s_aggregate": sum(r.fragments - 1 for r in runs) / sum(r.stream_s for r in runs),
            "fragments_p50": pct([r.fragments for r in runs], 50),
            "fragments_total": sum(r.fragments for r in runs),
            "tokens_total": sum(r.tokens or 0 for r in runs),
            "fragments_per_token": sum(r.fragments for r in runs) / max(1, sum(r.tokens or 0 for r in runs)),
            "capped_runs": sum(r.capped for r in runs),
            "gap_ms_p50": pct(gaps, 50),
            "gap_ms_p90": pct(gaps, 90),
            "gap_ms_p99": pct(gaps, 99),
            "gap_ms_max": max(gaps) if gaps else float("nan"),
            "burst_share": statistics.mean(burst_share(r.gaps_ms) for r in runs),
        }

    direct = [d for d, _ in pairs]
    relayed = [r for _, r in pairs]
    idle_rate = sum(d.app_cpu_ms for d in direct) / 1e3 / max(1e-9, sum(d.wall_s for d in direct))  # s per s
    d_ttft = [r.ttft_ms - d.ttft_ms for d, r in pairs]
    ratio = [r.tokens_per_s / d.tokens_per_s for d, r in pairs if d.tokens_per_s > 0 and r.tokens_per_s > 0]
    d_gap50 = [pct(r.gaps_ms, 50) - pct(d.gaps_ms, 50) for d, r in pairs if d.gaps_ms and r.gaps_ms]
    d_gap90 = [pct(r.gaps_ms, 90) - pct(d.gaps_ms, 90) for d, r in pairs if d.gaps_ms and r.gaps_ms]
    d_burst = [burst_share(r.gaps_ms) - burst_share(d.gaps_ms) for d, r in pairs]
    d_fpt = [r.fragments / r.tokens - d.fragments / d.tokens for d, r in pairs if d.tokens and r.tokens]
    ordered = {
        "relayed_first": [r.ttft_ms - d.ttft_ms for d, r in pairs if r.order == 0],
        "direct_first": [r.ttft_ms - d.ttft_ms for d, r in pairs if d.order == 0],
    }
    return {
        "direct": per_path(direct),
        "relayed": per_path(relayed),
        "relayed_ack_ms_p50": pct([r.ack_ms for r in relayed if r.ack_ms is not None], 50),
        "relayed_final_ms_p50": pct([r.final_ms for r in relayed if r.final_ms is not None], 50),
        "relayed_extra_fragments_total": sum(r.extra_fragments for r in relayed),
        "cpu": {
            # The app's CPU while idle (uvicorn's housekeeping tick), measured during the direct runs,
            # is taken off what it used during a relayed run.
            "app_idle_ms_per_s": idle_rate * 1e3,
            "app_ms_per_relayed_reply_p50": pct([r.app_cpu_ms - idle_rate * r.wall_s * 1e3 for r in relayed], 50),
            "app_us_per_relayed_token": 1e3 * sum(r.app_cpu_ms - idle_rate * r.wall_s * 1e3 for r in relayed)
            / max(1, sum(r.fragments + r.extra_fragments for r in relayed)),
            # While tokens stream (first -> last counted fragment; capped runs only), per token:
            "app_us_per_token_streaming": per_token(relayed, "app_stream_cpu_ms", idle_rate),
            "llama_ms_per_token_streaming_direct": per_token(direct, "llama_stream_cpu_ms") / 1e3,
            "llama_ms_per_token_streaming_relayed": per_token(relayed, "llama_stream_cpu_ms") / 1e3,
            "llama_ms_per_token_direct": sum(d.llama_cpu_ms for d in direct) / max(1, sum(d.fragments for d in direct)),
            "llama_ms_per_token_relayed": sum(r.llama_cpu_ms for r in relayed)
            / max(1, sum(r.fragments + r.extra_fragments for r in relayed)),
            "client_us_per_token_direct": 1e3 * sum(d.client_cpu_ms for d in direct) / max(1, sum(d.fragments for d in direct)),
            "client_us_per_token_relayed": 1e3 * sum(r.client_cpu_ms for r in relayed)
            / max(1, sum(r.fragments + r.extra_fragments for r in relayed)),
        },
        "paired": {
            "ttft_diff_ms": d_ttft,
            "ttft_diff_ms_p50": pct(d_ttft, 50),
            "ttft_diff_ms_p90": pct(d_ttft, 90),
            "ttft_diff_ms_p50_by_order": {k: pct(v, 50) for k, v in ordered.items()},
            "throughput_ratio": ratio,
            "throughput_ratio_p50": pct(ratio, 50),
            "throughput_ratio_p10": pct(ratio, 10),
            "gap_p50_diff_ms_p50": pct(d_gap50, 50),
            "gap_p90_diff_ms_p50": pct(d_gap90, 50),
            "burst_share_diff_p50": pct(d_burst, 50),
            "fragments_per_token_diff": d_fpt,
            "fragments_per_token_diff_p50": pct(d_fpt, 50),
            "fragments_per_token_diff_max_abs": max((abs(x) for x in d_fpt), default=float("nan")),
        },
    }


def targets(summary: dict) -> list[dict]:
    """Each target: a short label, what is measured, the value as shown, the limit, and whether it is met."""
    p = summary["paired"]
    d, r = summary["direct"], summary["relayed"]
    return [
        {"target": "first token: relayed - direct", "measure": "median over pairs of relayed TTFT - direct TTFT",
         "value": f"{p['ttft_diff_ms_p50']:+.2f} ms (p90 {p['ttft_diff_ms_p90']:+.2f})",
         "limit": f"<= {TTFT_TARGET_MS:.0f} ms", "ok": p["ttft_diff_ms_p50"] <= TTFT_TARGET_MS},
        {"target": "throughput: relayed / direct", "measure": "median over pairs of relayed tok/s / direct tok/s",
         "value": f"{p['throughput_ratio_p50'] * 100:.1f}% (p10 {p['throughput_ratio_p10'] * 100:.1f}%)",
         "limit": f">= {THROUGHPUT_TARGET * 100:.0f}%", "ok": p["throughput_ratio_p50"] >= THROUGHPUT_TARGET},
        {"target": "held back? frames per token", "measure": "median over pairs of relayed - direct "
                                                              "fragments per re-tokenized token",
         "value": f"{p['fragments_per_token_diff_p50']:+.3f} (r {r['fragments_per_token']:.3f}, "
                  f"d {d['fragments_per_token']:.3f})",
         "limit": f"|x| <= {FRAG_PER_TOKEN_TARGET}",
         "ok": abs(p["fragments_per_token_diff_p50"]) <= FRAG_PER_TOKEN_TARGET},
        {"target": "held back? p50 gap", "measure": "median over pairs of relayed - direct median gap",
         "value": f"{p['gap_p50_diff_ms_p50']:+.2f} ms", "limit": f"<= {GAP_TARGET_MS:.0f} ms",
         "ok": p["gap_p50_diff_ms_p50"] <= GAP_TARGET_MS},
        {"target": "held back? p90 gap", "measure": "median over pairs of relayed - direct p90 gap",
         "value": f"{p['gap_p90_diff_ms_p50']:+.2f} ms", "limit": f"<= {GAP_TARGET_MS:.0f} ms",
         "ok": p["gap_p90_diff_ms_p50"] <= GAP_TARGET_MS},
        {"target": "held back? bunched gaps", "measure": f"median over pairs of relayed - direct share of gaps "
                                                         f"< {BURST_FACTOR:g} x the run's median gap",
         "value": f"{p['burst_share_diff_p50']:+.3f} (r {r['burst_share']:.3f}, d {d['burst_share']:.3f})",
         "limit": f"<= {BURST_TARGET}", "ok": p["burst_share_diff_p50"] <= BURST_TARGET},
    ]


# --- the whole run -----------------------------------------------------------------------------


async def count_tokens(client: httpx.AsyncClient, llm_url: str, text: str) -> int:
    response = await client.post(f"{llm_url}/extras/tokenize/count", json={"model": MODEL_ALIAS, "input": text})
    response.raise_for_status()
    return response.json()["count"]


async def measure(args, llm_url: str, app_url: str, app_port: int, messages: list[dict], model: str,
                  log, app_pid: int, llama_pid: int) -> tuple[list[tuple[Run, Run]], dict]:
    # The same client settings as the app's ModelServer (one pooled AsyncClient, no proxies).
    timeout = httpx.Timeout(connect=2.0, read=args.timeout, write=10.0, pool=2.0)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client, \
            httpx.AsyncClient(timeout=10, trust_env=False) as app_client, \
            websockets.connect(f"ws://127.0.0.1:{app_port}/ws", origin=f"http://127.0.0.1:{app_port}",
                               max_size=None, open_timeout=10, close_timeout=2, proxy=None) as ws:

        def ours_ns() -> int:
            return cpu_ns(app_pid) + process_cpu_ns(llama_pid) + time.process_time_ns()

        def others_share(wall0: float, machine0: int, ours0: int) -> float:
            """The share of the machine's CPU that processes other than ours used since then."""
            wall = time.perf_counter() - wall0
            others = max(0, machine_busy_ns() - machine0 - (ours_ns() - ours0))
            return others / 1e9 / wall / (os.cpu_count() or 1)

        if args.wait_quiet > 0:  # before anything is measured: let other work on the machine finish
            deadline = time.monotonic() + args.wait_quiet
            while True:
                wall0, machine0, ours0 = time.perf_counter(), machine_busy_ns(), ours_ns()
                await asyncio.sleep(3)
                share = others_share(wall0, machine0, ours0)
                if share < QUIET_SHARE or time.monotonic() > deadline:
                    log(f"  other processes use {share * 100:.0f}% of the machine"
                        + ("" if share < QUIET_SHARE else f"; measuring anyway after {args.wait_quiet:.0f} s"))
                    break

        def probe() -> tuple[int, int]:
            return cpu_ns(app_pid), process_cpu_ns(llama_pid)

        async def one(path: str, pair: int, order: int) -> Run:
            if path == "relayed":
                await clear_history(app_client, app_url)
            cpu0 = cpu_ns(app_pid), process_cpu_ns(llama_pid), time.process_time_ns()
            started = time.perf_counter()
            if path == "direct":
                run = await asyncio.wait_for(
                    run_direct(client, llm_url, model, messages, args.max_tokens, pair, order, probe), args.timeout)
            else:
                run = await run_relayed(ws, args.prompt, args.max_tokens, pair, order, args.timeout, probe)
            run.app_cpu_ms = (cpu_ns(app_pid) - cpu0[0]) / 1e6
            run.llama_cpu_ms = (process_cpu_ns(llama_pid) - cpu0[1]) / 1e6
            run.client_cpu_ms = (time.process_time_ns() - cpu0[2]) / 1e6
            run.wall_s = time.perf_counter() - started
            # Let the server notice a closed stream and finish its token before the next request.
            median_gap = statistics.median(run.gaps_ms) / 1e3 if run.gaps_ms else 0.05
            await asyncio.sleep(min(2.0, max(args.settle, 3 * median_gap)))
            return run

        for i in range(args.warmup):
            for path in ("relayed", "direct") if i % 2 == 0 else ("direct", "relayed"):
                run = await one(path, -1 - i, 0)
                log(f"  warm-up {path:<8} ttft {run.ttft_ms:8.1f} ms  {run.fragments:4d} fragments  "
                    f"{run.tokens_per_s:6.1f} tok/s")
        pairs: list[tuple[Run, Run]] = []
        spy = None
        if args.py_spy:
            py_spy = Path(sys.executable).parent / "py-spy"
            # --native needs py-spy to pause the app at each sample: a profile, not a measurement.
            mode = ["--native"] if args.py_spy_native else ["--nonblocking"]
            spy_log = open(Path(args.py_spy).with_suffix(".py-spy.log"), "wb")
            spy = subprocess.Popen([str(py_spy) if py_spy.exists() else "py-spy", "record", "--pid", str(app_pid),
                                    "--rate", "500", "--format", "raw", *mode, "--output", str(args.py_spy)],
                                   stdout=spy_log, stderr=subprocess.STDOUT)
            await asyncio.sleep(1.0)
            if spy.poll() is not None:
                raise RuntimeError(f"py-spy exited: {Path(spy_log.name).read_text(errors='replace')[-500:]}")
        wall0, machine0 = time.perf_counter(), machine_busy_ns()
        ours0 = cpu_ns(app_pid) + process_cpu_ns(llama_pid) + time.process_time_ns()
        for i in range(args.pairs):
            order = ("direct", "relayed") if i % 2 == 0 else ("relayed", "direct")
            runs = {}
            pair_wall0, pair_machine0, pair_ours0 = time.perf_counter(), machine_busy_ns(), ours_ns()
            for position, path in enumerate(order):
                runs[path] = await one(path, i, position)
            d, r = runs["direct"], runs["relayed"]
            d.others_cpu_share = r.others_cpu_share = others_share(pair_wall0, pair_machine0, pair_ours0)
            pairs.append((d, r))
            log(f"  pair {i + 1:3d}/{args.pairs} ({order[0]:<7} first)  ttft d {d.ttft_ms:7.1f} r {r.ttft_ms:7.1f} "
                f"Δ {r.ttft_ms - d.ttft_ms:+7.2f} ms   tok/s d {d.tokens_per_s:6.1f} r {r.tokens_per_s:6.1f}   "
                f"frags d {d.fragments} r {r.fragments}   others' CPU {d.others_cpu_share * 100:3.0f}%")
        wall = time.perf_counter() - wall0
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            spy.wait(timeout=30)
            spy_log.close()
            log(f"  py-spy profile of the app: {args.py_spy}")
        ours = cpu_ns(app_pid) + process_cpu_ns(llama_pid) + time.process_time_ns() - ours0
        others = max(0, machine_busy_ns() - machine0 - ours)
        cpus = os.cpu_count() or 1
        contention = {"measured_wall_s": wall, "cpu_share_ours": ours / 1e9 / wall / cpus,
                      "cpu_share_other_processes": others / 1e9 / wall / cpus}
        for d, r in pairs:  # afterwards, so it never sits between a send and its stream
            d.tokens = await count_tokens(client, llm_url, d.text)
            r.tokens = await count_tokens(client, llm_url, r.text)
        empty = await count_tokens(client, llm_url, "")
        if empty:  # a BOS token added to every count
            for d, r in pairs:
                d.tokens -= empty
                r.tokens -= empty
        prompt_tokens = await count_tokens(client, llm_url, json.dumps(messages))
    return pairs, {"approx_prompt_tokens": prompt_tokens, "contention": contention}


def machine_busy_ns() -> int:
    """CPU time all processes of the machine used so far (user+nice+system+irq+softirq+steal), in ns."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) * 10**9 // os.sysconf("SC_CLK_TCK")


TTFT_STAGES = (
    ("client send -> app reads the frame", "dispatch"),
    ("user message stored (history.add, SQLite)", "stored"),
    ("echo of the message sent to the page", "echoed"),
    ("reply task starts", "task"),
    ("history read (for_model)", "for_model"),
    ("model list checked (models(), cached 30 s)", "models"),
    ("POST sent -> first fragment parsed in the app", "first_fragment"),
    ("first fragment -> its frame sent (page.send)", "first_sent"),
    ("frame sent -> received by this client", "received"),
)


def breakdown(trace_file: Path, pairs: list[tuple[Run, Run]], model: str, messages: list[dict]) -> dict | None:
    """Where the relayed runs' time goes, from the app's timestamps and ours (one clock)."""
    if not trace_file.exists():
        return None
    direct = [d for d, _ in pairs]
    idle_rate = sum(d.app_cpu_ms for d in direct) / 1e3 / max(1e-9, sum(d.wall_s for d in direct))  # s per s
    by_reply = {}
    for line in trace_file.read_text().splitlines():
        events = json.loads(line)
        replies = [e for e in events if e[0] == "reply"]
        if replies:
            by_reply[replies[-1][3]] = events
    stages: dict[str, list[float]] = {key: [] for _, key in TTFT_STAGES}
    model_ttft, models_fetched, per_token_app, per_token_wire = [], 0, [], []
    cpu_receive, cpu_send, cpu_python = [], [], []  # µs of the event loop thread's CPU per token
    requests = [e for events in by_reply.values() for e in events if e[0] == "request"]
    same_request = bool(requests) and all(e[1] == model and e[2] == messages for e in requests)
    for _, run in pairs:
        events = by_reply.get(run.reply_id)
        if not events or not run.token_at:
            continue
        try:
            dispatch = next(e for e in events if e[0] == "dispatch")[1]
            stored = next(e for e in events if e[0] == "history_add")[2]
            echoed = next(e for e in events if e[0] == "page_send" and not e[3])[2]
            task = next(e for e in events if e[0] == "reply")[1]
            for_model = next(e for e in events if e[0] == "for_model")[2]
            models_event = next(e for e in events if e[0] == "models")
            posts = [e for e in events if e[0] == "http_send" and e[1] >= models_event[2]]
            post = posts[0][1] if posts else models_event[2]  # (the plain-http stream reader does not use httpx)
            fragments = [e[1] for e in events if e[0] == "fragment"]
            token_sends = [e for e in events if e[0] == "page_send" and e[3]]
        except (StopIteration, IndexError):
            continue
        models_fetched += any(e[0] == "http_send" and models_event[1] <= e[1] <= models_event[2] for e in events)
        marks = [run.sent_at, dispatch, stored, echoed, task, for_model, models_event[2], fragments[0],
                 token_sends[0][2], run.token_at[0]]
        for (_, key), a, b in zip(TTFT_STAGES, marks, marks[1:], strict=False):
            stages[key].append((b - a) * 1e3)
        stages.setdefault("post_gap", []).append((post - models_event[2]) * 1e3)
        model_ttft.append((fragments[0] - post) * 1e3)
        for fragment, sent, received in zip(fragments[1:], token_sends[1:], run.token_at[1:], strict=False):
            per_token_app.append((sent[2] - fragment) * 1e6)
            per_token_wire.append((received - sent[2]) * 1e6)
        fragment_events = [e for e in events if e[0] == "fragment"]
        for previous, fragment, sent in zip(token_sends, fragment_events[1:], token_sends[1:], strict=False):
            # less what the idle app spends in the same time (uvicorn's housekeeping tick)
            cpu_receive.append((fragment[2] - previous[5]) / 1e3 - idle_rate * (fragment[1] - previous[2]) * 1e6)
            cpu_send.append((sent[5] - fragment[2]) / 1e3)
            if previous[2] < fragment[3] <= fragment[1]:  # its bytes came through anyio (httpx) after the last send
                cpu_python.append((fragment[2] - fragment[4]) / 1e3)
    if not model_ttft:
        return None
    return {
        "runs": len(model_ttft),
        "same_request_as_direct": same_request,
        "ttft_stages_ms_p50": {key: pct(values, 50) for key, values in stages.items()},
        "model_ttft_in_app_ms_p50": pct(model_ttft, 50),
        "model_list_fetched_runs": models_fetched,
        "per_token_us_p50": {"fragment_to_sent": pct(per_token_app, 50), "sent_to_received": pct(per_token_wire, 50)},
        "per_token_us_p90": {"fragment_to_sent": pct(per_token_app, 90), "sent_to_received": pct(per_token_wire, 90)},
        "per_token_cpu_us_mean": {"receive": statistics.fmean(cpu_receive) if cpu_receive else None,
                                  "receive_python": statistics.fmean(cpu_python) if cpu_python else None,
                                  "send": statistics.fmean(cpu_send) if cpu_send else None},
    }


def print_trace(trace: dict, direct_ttft_p50: float) -> None:
    print()
    same = "yes" if trace["same_request_as_direct"] else "NO: the comparison is not like for like"
    print(f"the app sent the model exactly the direct request's model and messages: {same}")
    print(f"where the relayed first token's time goes (--trace, {trace['runs']} runs, medians):")
    stages = trace["ttft_stages_ms_p50"]
    for label, key in TTFT_STAGES:
        print(f"  {label:<48} {stages[key]:8.2f} ms")
    print(f"  {'(sum of the medians)':<48} {sum(stages[key] for _, key in TTFT_STAGES):8.2f} ms; "
          f"direct TTFT p50 {direct_ttft_p50:.2f} ms")
    print(f"  the model list was fetched (cache expired) in {trace['model_list_fetched_runs']} of {trace['runs']} runs")
    p50, p90 = trace["per_token_us_p50"], trace["per_token_us_p90"]
    print(f"per token: fragment parsed in the app -> frame sent {p50['fragment_to_sent']:.0f} µs "
          f"(p90 {p90['fragment_to_sent']:.0f}); frame sent -> received here {p50['sent_to_received']:.0f} µs "
          f"(p90 {p90['sent_to_received']:.0f})")
    c = trace["per_token_cpu_us_mean"]
    if c["receive"] is not None:
        python = (f" (of which {c['receive_python']:.0f} µs from the bytes reaching anyio to the fragment: "
                  "httpcore, h11, httpx, SSE + JSON)") if c["receive_python"] is not None else ""
        print(f"per token, the app's event-loop CPU: {c['receive']:.0f} µs to receive (wake up, read the socket, "
              f"httpx, SSE + JSON){python}, {c['send']:.0f} µs to send (build the frame, WebSocket, write)")


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def print_table(result: dict) -> None:
    s = result["summary"]
    d, r, p = s["direct"], s["relayed"], s["paired"]
    cfg = result["config"]
    print()
    if cfg["whatif"]:
        print(f"WHAT-IF: the app ran with {cfg['whatif']} (bench/chat_relay_whatif.py), not as shipped")
    print(f"Chat relay: {cfg['pairs']} pairs, prompt {cfg['prompt']!r}, cut at {cfg['max_tokens'] or 'no'} fragments, "
          f"model {Path(cfg['model_file']).name}, llama.cpp n_threads {cfg['threads']}")
    print(f"machine: {result['env']['cpus']} CPUs, load average before {result['env']['loadavg_before']} "
          f"after {result['env']['loadavg_after']}")
    k = result["env"]["contention"]
    print(f"while measuring ({k['measured_wall_s']:.0f} s): this benchmark's processes used "
          f"{k['cpu_share_ours'] * 100:.0f}% of the machine's CPU, other processes {k['cpu_share_other_processes'] * 100:.0f}%")
    if result["env"]["busy"]:
        print("WARNING: other processes competed with the model and the app for the CPU: the timings of all "
              "pairs are noisy; see the quiet pairs (the CPU-time figures are not affected).")
    print()
    rows = [
        ("time to first token p50 (ms)", f"{d['ttft_ms_p50']:.1f}", f"{r['ttft_ms_p50']:.1f}"),
        ("time to first token p90 (ms)", f"{d['ttft_ms_p90']:.1f}", f"{r['ttft_ms_p90']:.1f}"),
        ("tokens/s p50 (per run)", f"{d['tokens_per_s_p50']:.1f}", f"{r['tokens_per_s_p50']:.1f}"),
        ("tokens/s (all runs)", f"{d['tokens_per_s_aggregate']:.1f}", f"{r['tokens_per_s_aggregate']:.1f}"),
        ("fragments per run p50", f"{d['fragments_p50']:.0f}", f"{r['fragments_p50']:.0f}"),
        ("runs cut at the cap", f"{d['capped_runs']}", f"{r['capped_runs']}"),
        ("fragments / re-tokenized tokens", f"{d['fragments_total']}/{d['tokens_total']}",
         f"{r['fragments_total']}/{r['tokens_total']}"),
        ("gap between fragments p50 (ms)", f"{d['gap_ms_p50']:.2f}", f"{r['gap_ms_p50']:.2f}"),
        ("gap p90 / p99 / max (ms)", f"{d['gap_ms_p90']:.1f} / {d['gap_ms_p99']:.1f} / {d['gap_ms_max']:.1f}",
         f"{r['gap_ms_p90']:.1f} / {r['gap_ms_p99']:.1f} / {r['gap_ms_max']:.1f}"),
        ("bunched gaps (< 0.2x median)", f"{d['burst_share']:.3f}", f"{r['burst_share']:.3f}"),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'':<{width}}  {'direct':>22}  {'through Pipulate':>22}")
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>22}  {b:>22}")
    print(f"relayed: send -> echo of the message p50 {s['relayed_ack_ms_p50']:.2f} ms; last token -> final frame "
          f"p50 {s['relayed_final_ms_p50']:.1f} ms; TTFT Δ p50 by order: "
          + ", ".join(f"{k} {v:+.2f} ms" for k, v in p["ttft_diff_ms_p50_by_order"].items()))
    c = s["cpu"]
    print(f"CPU time: Pipulate {c['app_ms_per_relayed_reply_p50']:.1f} ms per relayed reply (p50), of which "
          f"{c['app_us_per_token_streaming']:.0f} µs per token while streaming (its idle "
          f"{c['app_idle_ms_per_s']:.1f} ms/s taken off); the model server "
          f"{c['llama_ms_per_token_streaming_direct']:.1f} / {c['llama_ms_per_token_streaming_relayed']:.1f} ms "
          f"per token while streaming (direct / relayed)")
    if result.get("trace"):
        print_trace(result["trace"], d["ttft_ms_p50"])
    print()
    t = result["targets"]
    q = result["quiet_targets"] or [{"value": "-", "ok": None}] * len(t)
    mark = {True: "PASS", False: "MISS", None: "    "}
    w0 = max(len(x["target"]) for x in t)
    w1 = max(len(x["limit"]) for x in t)
    w2 = max(len(x["value"]) for x in t) + 6
    print(f"{'target':<{w0}}  {'limit':<{w1}}  {'all pairs':<{w2}}  "
          f"quiet pairs only ({result['quiet_pairs']} of {cfg['pairs']})")
    for x, y in zip(t, q, strict=True):
        print(f"{x['target']:<{w0}}  {x['limit']:<{w1}}  {mark[x['ok']] + '  ' + x['value']:<{w2}}  "
              f"{mark[y['ok']]}  {y['value']}")
    print(f"(medians over pairs of relayed - direct, or relayed / direct; a quiet pair: other processes used "
          f"< {QUIET_SHARE * 100:.0f}% of the CPU while it ran; 'held back?' = no buffering holds a token back)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="direct/relayed pairs measured (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured pairs first (default 2)")
    parser.add_argument("--max-tokens", type=int, default=100,
                        help="cut both streams after this many fragments; 0: let the model finish (default 100)")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--model-file", type=Path, default=DEFAULT_MODEL_FILE)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp --n_threads (default 2)")
    parser.add_argument("--llama-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--app-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--settle", type=float, default=0.1, help="seconds between runs, at least (default 0.1)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one run may take (default 300)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (progress on stderr)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait (up to this long) until other processes use < 5%% of the CPU (default 0)")
    parser.add_argument("--whatif", default="", metavar="CHANGES",
                        help="run the app under bench/chat_relay_whatif.py with these candidate changes "
                             "(comma-separated: no-deflate, ws=NAME)")
    parser.add_argument("--trace", action="store_true",
                        help="run the app under bench/chat_relay_trace.py and show where the relayed time goes")
    parser.add_argument("--py-spy", type=Path, metavar="FILE",
                        help="record the Pipulate server with py-spy during the measured pairs (collapsed stacks)")
    parser.add_argument("--py-spy-native", action="store_true", help="with --py-spy: C frames too (uvloop, zlib)")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.max_tokens == 1:
        parser.error("--pairs must be >= 1 and --max-tokens 0 or >= 2")
    if not args.model_file.is_file():
        parser.error(f"no model file at {args.model_file} (./scripts/test fetches it)")

    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else (lambda msg: print(msg, flush=True))
    workdir = Path(tempfile.mkdtemp(prefix="bench-chat-relay-"))
    env = clean_environment()
    llama_port = args.llama_port or free_port()
    app_port = args.app_port or free_port()
    llm_url = f"http://127.0.0.1:{llama_port}"
    app_url = f"http://127.0.0.1:{app_port}"
    procs: list[Process] = []
    before = loadavg()
    try:
        log(f"starting llama_cpp.server on {llm_url} and pipulate on {app_url} (work dir {workdir})")
        procs.append(start_llama(args.model_file, llama_port, workdir, env, args.threads))
        trace_file = workdir / "trace.jsonl" if args.trace else None
        procs.append(start_app(app_port, workdir / "data", llm_url, workdir, env, trace_file, args.whatif))
        log(f"  llama-server pid {procs[0].pid}, pipulate pid {procs[1].pid}")
        messages, model = app_messages(args.prompt, llm_url, workdir)
        pairs, extra = asyncio.run(measure(args, llm_url, app_url, app_port, messages, model, log,
                                           app_pid=procs[1].pid, llama_pid=procs[0].pid))
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died during the run:\n{proc.log()[-3000:]}")
        trace = breakdown(trace_file, pairs, model, messages) if trace_file else None
        if "Traceback" in procs[1].log():
            log("warning: the app logged a traceback:\n" + procs[1].log()[-3000:])
    finally:
        for proc in reversed(procs):
            proc.stop()
        if not args.keep:
            for path in sorted(workdir.rglob("*"), reverse=True):
                path.unlink() if not path.is_dir() else path.rmdir()
            workdir.rmdir()
    summary = summarize(pairs)
    quiet = [(d, r) for d, r in pairs if d.others_cpu_share < QUIET_SHARE]
    quiet_summary = summarize(quiet) if len(quiet) >= 3 else None
    # Other processes took more than a tenth of the machine while we measured: timings are noisy.
    contention = extra.pop("contention")
    busy = contention["cpu_share_other_processes"] > 0.10
    result = {
        "config": {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                   "messages": messages, "model": model, **extra},
        "env": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                "loadavg_before": before, "loadavg_after": loadavg(),
                "contention": contention,
                "busy": busy},
        "summary": summary,
        "targets": targets(summary),
        "quiet_pairs": len(quiet),
        "quiet_summary": quiet_summary,
        "quiet_targets": targets(quiet_summary) if quiet_summary else None,
        "trace": trace,
        "runs": [{k: v for k, v in asdict(run).items() if k != "token_at"} for pair in pairs for run in pair],
    }
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        print_table(result)
    return 0 if all(t["ok"] for t in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())

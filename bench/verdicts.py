"""The one table of `make bench`: issue #6's figures from each part's JSON, each with its goal,
the reference measured in the same run, and whether it meets the goal. Pure functions."""

from __future__ import annotations

RECEIVER_RATIO = 0.6
E2E_GOAL = 400.0
P99_GOAL_MS = 250.0
USSD_P99_GOAL_MS = 25.0
RSS_GROWTH = 0.10  # a peak with many reports stored may be at most 10% above the peak without
LATENCY_AT = 100
# Issue 15: at a real send API's round trip, against the same run's loopback figures.
RTT_RATIO = 0.8
RTT_P99_GOAL_MS = 400.0
RTT_GOAL_AT_MS = 150
TPS_CAP = 50
PRIORITY_GOAL_MS = 2000.0


def row(figure: str, measured: str, goal: str = "", reference: str = "", ok: bool | None = None) -> dict:
    """One line of the table; `ok` None = no goal (a reference figure) or nothing measured."""
    verdict = "-" if ok is None else ("meets" if ok else "misses")
    return {"figure": figure, "measured": measured, "goal": goal, "reference": reference, "verdict": verdict}


def missing(figure: str, part: str) -> dict:
    """The row of a figure whose part did not run (or left no JSON)."""
    return row(figure, f"({part} did not run)", ok=None) | {"verdict": "n/a"}


def earlier(results: dict, part: str) -> str:
    """A mark for figures read from an earlier run's JSON."""
    return " [earlier run]" if results.get(part, {}).get("earlier") else ""


def receiver_rows(results: dict) -> list[dict]:
    """MO accepted/s: bare route (reference), then per database the floor (reference: bare +
    one durable INSERT per request, when measured) and the gateway."""
    rec, kannel = results.get("receiver"), results.get("kannel")
    if not rec:
        return [missing("receiver: MO accepted/s", "receiver")]
    runs = rec["runs"]
    bare = next(r for r in runs if r["route"] == "bare")
    same = [r for r in runs if r["server"] == bare["server"]]
    floors = {r["db"]: r["per_s"] for r in same if r["route"] == "floor"}
    push = kannel["reference"]["push_per_s"] if kannel else None
    mark = earlier(results, "receiver")
    rounds = len(bare.get("per_s_rounds", []))
    median = f" (each a median of {rounds} rounds)" if rounds > 1 else ""
    out = [
        row(f"receiver: bare Flask route req/s ({bare['server']}){mark}", f"{bare['per_s']:,.0f}/s{median}")
    ]
    for r in (r for r in same if r["route"] == "gateway"):
        floor = floors.get(r["db"])
        if floor:
            measured = f"{floor:,.0f}/s ({floor / bare['per_s']:.2f} x bare)"
            out.append(row(f"receiver: floor, bare + 1 durable INSERT, {r['db']}{mark}", measured))
        ratio = r["per_s"] / bare["per_s"]
        ref = f"bare {bare['per_s']:,.0f}/s" + (f", Kannel push {push:,.0f}/s" if push else "")
        ok = ratio >= RECEIVER_RATIO and (push is None or r["per_s"] >= push)
        goal = f">= {RECEIVER_RATIO} x bare" + (" and >= Kannel push" if push else "")
        of_floor = f", {r['per_s'] / floor:.2f} x floor" if floor else ""
        measured = f"{r['per_s']:,.0f}/s ({ratio:.2f} x bare{of_floor}), p99 {r['p99_ms']:.1f} ms"
        out.append(row(f"receiver: MO accepted/s, {r['db']}{mark}", measured, goal, ref, ok))
    return out


def ceiling(results: dict) -> float | None:
    """The RQ no-op drain rate, if measured."""
    rq = results.get("rq_ceiling")
    return rq["drain_per_s"] if rq else None


def pipeline_rows(results: dict) -> list[dict]:
    """End-to-end throughput (burst) and latency at 100 MO/s offered, per database."""
    out, rq = [], ceiling(results)
    if rq is not None:
        wall = results["rq_ceiling"]["wall_per_s"]
        measured = f"{rq:,.0f} jobs/s (with start-up {wall:,.0f}/s)"
        out.append(row(f"RQ no-op ceiling, 2 SimpleWorkers{earlier(results, 'rq_ceiling')}", measured))
    for db in ("sqlite", "postgres"):
        part = f"pipeline-{db}"
        pipe, mark = results.get(part), earlier(results, part)
        if not pipe:
            out.append(missing(f"end to end msg/s, {db}", part))
            continue
        b, load = pipe["burst"], pipe["load"]
        best = max(load, key=lambda x: x["achieved"], default=None)
        ref = f"RQ no-op {rq:,.0f} jobs/s" if rq else ""
        measured = f"{b['e2e_per_s']:,.0f}/s (burst of {b['n']:,}, accepted {b['accept_per_s']:,.0f}/s"
        measured += f", lost {b['lost']})"
        figure = f"end to end MO -> reply msg/s, burst, {db}{mark}"
        out.append(row(figure, measured, "", ref, None))
        if best is not None:
            lost = sum(x["lost"] for x in load) + b["lost"]
            measured = f"{best['achieved']:,.0f}/s for {pipe.get('seconds', 0):g} s (offered"
            measured += f" {best['offered_actual']:,.0f}/s, p99 {best['p99_ms']:,.0f} ms), lost {lost}"
            ok = best["achieved"] >= E2E_GOAL and lost == 0
            figure = f"end to end MO -> reply msg/s, sustained, {db}{mark}"
            out.append(row(figure, measured, f">= {E2E_GOAL:.0f}/s", ref, ok))
        at = next((x for x in pipe["load"] if x["offered"] == LATENCY_AT), None)
        if at is None:
            out.append(missing(f"latency at {LATENCY_AT} MO/s, {db}", f"{part} at {LATENCY_AT}/s"))
            continue
        measured = f"p50 {at['p50_ms']:,.0f} / p99 {at['p99_ms']:,.0f} ms (achieved {at['achieved']:,.0f}/s)"
        ok = at["p99_ms"] <= P99_GOAL_MS and at["lost"] == 0
        goal = f"p99 <= {P99_GOAL_MS:.0f} ms"
        out.append(row(f"latency at {LATENCY_AT} MO/s, {db}{mark}", measured, goal, "", ok))
    return out


def ussd_rows(results: dict) -> list[dict]:
    """USSD step latency at 50 concurrent sessions."""
    u = results.get("ussd")
    if not u:
        return [missing("USSD step p99", "ussd")]
    gw, bare = u["gateway"]["all"], u["bare"]["all"]
    steps = {k: v["p99_ms"] for k, v in u["gateway"].items() if k != "all"}
    worst = max(steps, key=steps.get, default="all")
    measured = f"p99 {gw['p99_ms']:.1f} ms (p50 {gw['p50_ms']:.1f}; worst step: {worst}"
    measured += f" p99 {u['gateway'][worst]['p99_ms']:.1f})"
    ref = f"bare p99 {bare['p99_ms']:.1f} ms"
    ok = gw["p99_ms"] <= USSD_P99_GOAL_MS and gw["errors"] == 0
    figure = f"USSD step latency, {u['sessions']} sessions{earlier(results, 'ussd')}"
    return [row(figure, measured, f"p99 <= {USSD_P99_GOAL_MS:.0f} ms", ref, ok)]


def memory_rows(results: dict) -> list[dict]:
    """Peak RSS per process kind: idle, per burst, and with the reports preloaded."""
    mem = results.get("memory")
    if not mem:
        return [missing("peak RSS per process", "memory")]
    phases, out, mark = mem["phases"], [], earlier(results, "memory")
    plain = [p for p in phases if not p["reports_preloaded"]]
    loaded = [p for p in phases if p["reports_preloaded"]]
    for kind in ("gunicorn worker", "rq worker", "gunicorn master", "rq pool parent", "rq cron"):
        idle = phases[0]["idle_rss_mb"].get(kind, 0.0)
        peaks = [f"{p['peak_rss_mb'].get(kind, 0):.0f} @{p['peak_pending']:,}" for p in plain]
        base = max(p["peak_rss_mb"].get(kind, 0.0) for p in plain)
        measured = f"idle {idle:.0f}, peak {' / '.join(peaks)} backlog"
        ok = None
        if loaded:
            top = max(p["peak_rss_mb"].get(kind, 0.0) for p in loaded)
            measured += f"; {loaded[0]['reports_preloaded']:,} reports: {top:.0f}"
            ok = top <= base * (1 + RSS_GROWTH)
        goal = f"+reports <= +{RSS_GROWTH:.0%}" if loaded else ""
        out.append(row(f"peak RSS MB, per {kind}{mark}", measured, goal, "", ok))
    return out


def kannel_rows(results: dict) -> list[dict]:
    """Kannel-driven: n MOs through fakesmsc until every reply is back, and Kannel's push rate."""
    k = results.get("kannel")
    if not k:
        return [missing("Kannel-driven MO -> reply", "kannel")]
    gw, ref = k["gateway"], k["reference"]
    measured = f"{gw['seconds']:.1f} s ({gw['e2e_per_s']:,.0f}/s; stored {gw['stored_per_s']:,.0f}/s)"
    measured += f", lost {gw['lost']}"
    reference = f"Kannel -> 202 server: {ref['seconds']:.1f} s ({ref['push_per_s']:,.0f} MO/s)"
    figure = f"Kannel: {gw['mo']:,} MO -> replies at fakesmsc{earlier(results, 'kannel')}"
    return [row(figure, measured, "lost = 0", reference, gw["lost"] == 0 and gw["injected"] == gw["mo"])]


def rtt_parts(results: dict) -> list[tuple[int, dict]]:
    """(send RTT in ms, figures) of each pipeline-rtt<ms> part that ran, by RTT."""
    found = [
        (int(k.removeprefix("pipeline-rtt")), v) for k, v in results.items() if k.startswith("pipeline-rtt")
    ]
    return sorted(found, key=lambda x: x[0])


def rtt_rows(results: dict) -> list[dict]:
    """Issue 15, goal 1: at each send RTT, the burst against the loopback burst of the same
    run, p99 at 100 MO/s, and the RQ worker's peak RSS against loopback's."""
    loop, out = results.get("pipeline-sqlite"), []
    if not loop:
        return [missing("end to end at a send RTT (needs the loopback reference)", "pipeline-sqlite")]
    ref_rss = loop.get("peak_rss_mb", {}).get("rq worker")
    for ms, r in rtt_parts(results):
        judged, mark = ms == RTT_GOAL_AT_MS, earlier(results, f"pipeline-rtt{ms}")
        ratio = r["burst"]["e2e_per_s"] / loop["burst"]["e2e_per_s"]
        measured = f"{r['burst']['e2e_per_s']:,.0f}/s ({ratio:.2f} x loopback), lost {r['burst']['lost']}"
        ref = f"loopback burst {loop['burst']['e2e_per_s']:,.0f}/s"
        ok = ratio >= RTT_RATIO and r["burst"]["lost"] == 0 if judged else None
        figure = f"send RTT {ms} ms: burst of {r['burst']['n']:,} MO -> reply, SQLite{mark}"
        out.append(row(figure, measured, f">= {RTT_RATIO} x loopback" if judged else "", ref, ok))
        at = next((x for x in r["load"] if x["offered"] == LATENCY_AT), None)
        if at is not None:
            measured = (
                f"p50 {at['p50_ms']:,.0f} / p99 {at['p99_ms']:,.0f} ms (achieved {at['achieved']:,.0f}/s)"
            )
            ok = at["p99_ms"] <= RTT_P99_GOAL_MS and at["lost"] == 0 if judged else None
            goal = f"p99 <= {RTT_P99_GOAL_MS:.0f} ms" if judged else ""
            out.append(row(f"send RTT {ms} ms: latency at {LATENCY_AT} MO/s{mark}", measured, goal, "", ok))
        rss = r.get("peak_rss_mb", {}).get("rq worker")
        if rss and ref_rss:
            ok = rss <= ref_rss * (1 + RSS_GROWTH) if judged else None
            goal = f"<= loopback +{RSS_GROWTH:.0%}" if judged else ""
            figure = f"send RTT {ms} ms: peak RSS MB per RQ worker{mark}"
            out.append(row(figure, f"{rss:.0f} MB", goal, f"loopback {ref_rss:.0f} MB", ok))
    return out


def cap_rows(results: dict) -> list[dict]:
    """Issue 15, goals 2 and 3: the shared TPS cap under a burst, and a reply behind notices."""
    out = []
    cap, prio = results.get("tps-cap"), results.get("priority")
    if cap:
        c = cap["tps_cap"]
        measured = f"{c['max_in_any_1s']} in the busiest 1 s, {c['throttled_429']} 429s, lost {c['lost']}"
        measured += f" ({c['e2e_per_s']:.0f} replies/s)"
        ok = c["max_in_any_1s"] <= c["tps"] and c["throttled_429"] == 0 and c["lost"] == 0
        figure = f"TPS cap {c['tps']}, burst of {c['n']:,}, RTT {cap['latency_ms']:g} ms"
        figure += earlier(results, "tps-cap")
        out.append(row(figure, measured, f"<= {c['tps']}/s, 0 429s", "", ok))
    else:
        out.append(missing("TPS cap under a burst", "tps-cap"))
    if prio:
        p = prio["priority"]
        measured = f"{p['reply_ms']:,.0f} ms ({p['sends_before']} notices went before it)"
        figure = f"reply behind {p['notices']:,} notices at {p['tps']} TPS{earlier(results, 'priority')}"
        out.append(
            row(figure, measured, f"<= {PRIORITY_GOAL_MS:.0f} ms", "", p["reply_ms"] <= PRIORITY_GOAL_MS)
        )
    else:
        out.append(missing("a reply behind queued notices", "priority"))
    return out


def build_rows(results: dict) -> list[dict]:
    """Every row of the table, in the issues' order of goals."""
    parts = (receiver_rows, pipeline_rows, ussd_rows, memory_rows, kannel_rows, rtt_rows, cap_rows)
    return [r for part in parts for r in part(results)]


def print_rows(rows: list[dict]) -> None:
    """The table, columns as wide as their widest cell."""
    cols = ("figure", "measured", "goal", "reference", "verdict")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(widths[c]) for c in cols))
    print("-+-".join("-" * widths[c] for c in cols))
    for r in rows:
        print(" | ".join(r[c].ljust(widths[c]) for c in cols))

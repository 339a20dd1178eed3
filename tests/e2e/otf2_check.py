#!/usr/bin/python3
"""Reads back the OTF2 trace of every run of an hpool-bench result with the OTF2 Python
reader (python3-otf2; run with Debian's /usr/bin/python3) and checks it against the run's
TSVs: one location per worker rank and per OpenMP thread with spans, grouped by rank and
host; the event counts; each location's events in time order; and every timestamp
equal, to the nanosecond, to t0 + the TSV's value (both read as integer nanoseconds from
their text).

usage: otf2_check.py RESULT_DIR   (exit 0: all runs match; 1: a mismatch, printed)"""
import csv
import glob
import os
import sys

import otf2


def ns(text):
    """'12.345678901' -> 12345678901, exactly."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    v = int(whole) * 10**9 + int((frac + "000000000")[:9])
    return -v if neg else v


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [l for l in f if not l.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def check_run(run_dir):
    errors = []
    chunks = rows(os.path.join(run_dir, "chunks.tsv"))
    spans = rows(os.path.join(run_dir, "spans.tsv"))
    clock = rows(os.path.join(run_dir, "clock.tsv"))
    t0 = ns(clock[0]["t0"])
    workers = sorted(int(r["rank"]) for r in clock)
    threads = {(int(s["rank"]), int(s["thread"])) for s in spans}
    anchor = os.path.join(run_dir, "otf2", "traces.otf2")
    with otf2.reader.open(anchor) as tr:
        d = tr.definitions
        if d.clock_properties.timer_resolution != 10**9:
            errors.append("timer resolution %d" % d.clock_properties.timer_resolution)
        if d.clock_properties.global_offset > t0:
            errors.append("global offset after t0")
        names = {l.name: l for l in d.locations}
        want = {"manager"} | {"rank %d call items" % w for w in workers} | {
            "rank %d thread %d" % rt for rt in threads}
        if set(names) != want:
            errors.append("locations %s, want %s" % (sorted(names), sorted(want)))
        for name, loc in names.items():
            rank = 0 if name == "manager" else int(name.split()[1])
            if loc.group.name != "rank %d" % rank:
                errors.append("%s in group %s" % (name, loc.group.name))
            if loc.group.system_tree_parent.class_name != "node":
                errors.append("%s: group not under a host node" % name)
        seen = {}  # (kind, chunk) -> time; (span key) -> (enter, leave)
        count = {}
        last = {}  # location -> time of its previous event: OTF2 wants them in order
        for loc, ev in tr.events:
            count[loc.name] = count.get(loc.name, 0) + 1
            if ev.time < last.get(loc.name, 0):
                errors.append("%s: event at %d after one at %d" % (loc.name, ev.time, last[loc.name]))
            last[loc.name] = ev.time
            attrs = {a.name: v for a, v in ev.attributes.items()} if ev.attributes else {}
            kind = type(ev).__name__
            # which call item: the Enter's attribute, the messages' tag, the parameter's
            # value; a Leave closes the location's last Enter
            if kind in ("MpiSend", "MpiRecv"):
                chunk = ev.msg_tag
            elif kind == "ParameterUnsignedInt":
                chunk = ev.value
            elif kind == "Enter":
                chunk = attrs["chunk"]
                seen[("enter", loc.name)] = chunk
            else:
                chunk = seen.get(("enter", loc.name))
            if loc.name == "manager":
                key = {"ParameterUnsignedInt": "t_submit", "MpiSend": "t_dispatch",
                       "MpiRecv": "t_result"}[kind]
            elif "call items" in loc.name:
                key = {"MpiRecv": "t_recv", "Enter": "t_start", "Leave": "t_end",
                       "MpiSend": "send"}[kind]
            else:
                rank, thread = int(loc.name.split()[1]), int(loc.name.split()[3])
                if kind == "Enter":
                    skey = (rank, thread, chunk, attrs["item"], attrs["inner"], ev.region.name)
                    seen[("span",) + skey] = [ev.time - t0, None]
                    seen[("open", rank, thread)] = skey
                else:
                    skey = seen.pop(("open", rank, thread))
                    seen[("span",) + skey][1] = ev.time - t0
                continue
            if (key, chunk) in seen:
                errors.append("%s of chunk %s twice" % (key, chunk))
            seen[(key, chunk)] = (ev.time - t0, loc.name)
        for c in chunks:
            chunk, worker = int(c["chunk"]), int(c["worker"])
            for key in ("t_submit", "t_dispatch", "t_result", "t_recv", "t_start", "t_end"):
                got = seen.get((key, chunk))
                where = "manager" if key in ("t_submit", "t_dispatch", "t_result") else \
                    "rank %d call items" % worker
                if got is None or got != (ns(c[key]), where):
                    errors.append("chunk %d %s: trace %s, chunks.tsv %s on %s" %
                                  (chunk, key, got, ns(c[key]), where))
        for s in spans:
            label = s["label"]
            skey = ("span", int(s["rank"]), int(s["thread"]), int(s["chunk"]), int(s["item"]),
                    int(s["inner"]), label)
            if seen.get(skey) != [ns(s["t_start"]), ns(s["t_end"])]:
                errors.append("span %s: trace %s, spans.tsv %s %s" %
                              (skey, seen.get(skey), s["t_start"], s["t_end"]))
        want_counts = {"manager": 3 * len(chunks)}
        for w in workers:
            want_counts["rank %d call items" % w] = 4 * sum(int(c["worker"]) == w for c in chunks)
        for rt in threads:
            want_counts["rank %d thread %d" % rt] = 2 * sum(
                (int(s["rank"]), int(s["thread"])) == rt for s in spans)
        for name, n in want_counts.items():
            if count.get(name, 0) != n:
                errors.append("%s: %d events, want %d" % (name, count.get(name, 0), n))
        for name, loc in names.items():
            if loc.number_of_events != want_counts.get(name, 0):
                errors.append("%s: definition says %d events" % (name, loc.number_of_events))
    print("%s: %d call items, %d spans, %d locations: %s" %
          (run_dir, len(chunks), len(spans), len(names), "match" if not errors else "MISMATCH"))
    for e in errors[:20]:
        print("  " + e)
    return not errors


def main():
    runs = sorted(glob.glob(os.path.join(sys.argv[1], "runs", "*", "otf2", "traces.otf2")))
    if not runs:
        print("no OTF2 traces under %s/runs" % sys.argv[1])
        return 1
    ok = all([check_run(os.path.dirname(os.path.dirname(r))) for r in runs])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

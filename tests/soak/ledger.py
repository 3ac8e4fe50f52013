"""Bookkeeping of the soak: what the publisher had acknowledged, what each subscriber received,
and the verdict (lost / duplicated / reordered, each either explained by a gap or not).

A published payload is {"n": N, "a": ATTEMPT}: N counts per channel, ATTEMPT counts retries of
that N after a 503 (which promises that nothing was published). A subscriber's record of a
channel is the sequence of what arrived, in order: ("m", N, ATTEMPT, ID) for a message and
("g", REASON) for a gap the server reported (a `gap` entry or frame).
"""

import bisect
import threading
from collections import Counter


class Published:
    """The publisher's side, per channel: acknowledged N -> id, N whose outcome is unknown (the
    connection broke after the request was sent), N given up after bounded retries."""

    def __init__(self, channels):
        self.lock = threading.Lock()
        self.acked = {ch: {} for ch in channels}
        self.uncertain = {ch: set() for ch in channels}
        self.given_up = {ch: set() for ch in channels}
        self.retries_503 = 0
        self.retries_refused = 0
        self.statuses = Counter()

    def ack(self, ch, n, message_id):
        with self.lock:
            self.acked[ch][n] = message_id

    def acked_set(self, ch):
        with self.lock:
            return set(self.acked[ch])

    def total_acked(self):
        with self.lock:
            return sum(len(v) for v in self.acked.values())


class Received:
    """One subscriber's record: events per channel (appended by its own thread only)."""

    def __init__(self, channels):
        self.lock = threading.Lock()
        self.events = {ch: [] for ch in channels}
        self.seen = {ch: set() for ch in channels}

    def message(self, ch, payload, message_id):
        n = payload.get("n") if isinstance(payload, dict) else None
        a = payload.get("a", 0) if isinstance(payload, dict) else 0
        with self.lock:
            if ch not in self.events:
                self.events[ch] = []
                self.seen[ch] = set()
            self.events[ch].append(("m", n, a, message_id))
            self.seen[ch].add(n)

    def gap(self, ch, reason):
        with self.lock:
            self.events.setdefault(ch, []).append(("g", reason))
            self.seen.setdefault(ch, set())

    def has_all(self, ch, wanted):
        with self.lock:
            return wanted <= self.seen.get(ch, set())


def _gap_between(gap_prefix, i, j):
    """True when a gap event lies strictly between event indices i and j (either order)."""
    lo, hi = min(i, j), max(i, j)
    return gap_prefix[hi] - gap_prefix[lo + 1] > 0 if hi > lo + 1 else False


def analyse_channel(events, acked):
    """Verdict for one channel of one subscriber: a dict of counts ("foreign": messages whose
    data is not a soak payload)."""
    gap_prefix = [0]
    for e in events:
        gap_prefix.append(gap_prefix[-1] + (1 if e[0] == "g" else 0))
    msgs = [(i, e[1]) for i, e in enumerate(events) if e[0] == "m" and isinstance(e[1], int)]
    out = Counter(acknowledged=len(acked), delivered=len(msgs),
                  gaps=gap_prefix[-1], foreign=sum(1 for e in events
                                                   if e[0] == "m" and not isinstance(e[1], int)))
    first_at, last_at = {}, {}
    prev = None  # (index, n) of the previous message
    for i, n in msgs:
        if n in first_at:
            out["duplicated"] += 1
            if not _gap_between(gap_prefix, last_at[n], i):
                out["duplicated_unexplained"] += 1
        elif prev is not None and n < prev[1]:
            out["reordered"] += 1
            if not _gap_between(gap_prefix, prev[0], i):
                out["reordered_unexplained"] += 1
        first_at.setdefault(n, i)
        last_at[n] = i
        prev = (i, n)
    out["unacknowledged_delivered"] = sum(1 for n in first_at if n not in acked)
    lost = sorted(n for n in acked if n not in first_at)
    out["lost"] = len(lost)
    out["lost_unexplained"] = _unexplained_losses(lost, first_at, last_at, gap_prefix,
                                                  len(events))
    out["first_lost"] = lost[:5]
    return out


def _unexplained_losses(lost, first_at, last_at, gap_prefix, n_events):
    """How many lost N have no gap between the last delivered N' < N and the first N'' > N."""
    if not lost:
        return 0
    delivered = sorted(first_at)
    count = 0
    for n in lost:
        k = bisect.bisect_left(delivered, n)
        before = last_at[delivered[k - 1]] if k > 0 else -1
        after = first_at[delivered[k]] if k < len(delivered) else n_events
        if not _gap_between(gap_prefix, before, after):
            count += 1
    return count


def analyse(received, published, channels):
    """Totals over a subscriber's channels (a Counter) plus per-channel details."""
    total = Counter()
    details = {}
    for ch in channels:
        with received.lock:
            events = list(received.events.get(ch, []))
        with published.lock:
            acked = set(published.acked[ch])
        c = analyse_channel(events, acked)
        details[ch] = c
        for k, v in c.items():
            if isinstance(v, int):
                total[k] += v
    return total, details

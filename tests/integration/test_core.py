"""The Core contract through lighttpd: publish, long-poll/poll subscribe, cursors and resume,
gaps, backtracking, timeouts, channel administration, stats and error responses
(DESIGN.md §2, §3, §5)."""

import json
import re
import time

import pytest

import harness

EPOCH_RE = r"[A-Za-z0-9_-]{1,32}"


def split_id(message_id):
    """'EPOCH-SEQ' -> (epoch, seq). Epochs are base64url and may contain '-'."""
    epoch, _, seq = message_id.rpartition("-")
    assert re.fullmatch(EPOCH_RE, epoch) and seq.isdigit(), "bad id %r" % message_id
    return epoch, int(seq)


def cursor_epoch(cursor, channel, seq):
    """Checks cursor == 'channel:EPOCH-seq' and returns EPOCH."""
    m = re.fullmatch(re.escape(channel) + ":(" + EPOCH_RE + ")-" + str(seq), cursor)
    assert m, "cursor %r is not %s:EPOCH-%d" % (cursor, channel, seq)
    return m.group(1)


def assert_json_response(r):
    assert r.header("content-type", ) is not None, "no Content-Type"
    assert r.header("content-type").split(";")[0].strip() == "application/json", r.headers
    assert "no-store" in (r.header("cache-control") or ""), \
        "Cache-Control: no-store missing: %r" % r.headers
    return r.json()


def assert_error(r, status):
    """An error response: the status, JSON {"error","message"}, no-store."""
    assert r.status == status, "expected %d, got %d: %r" % (status, r.status, r.body[:500])
    body = assert_json_response(r)
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def check_message(m, channel, epoch, seq, data, event="message"):
    for key in ("channel", "id", "event", "data", "time"):
        assert key in m, "message lacks %r: %r" % (key, m)
    assert m["channel"] == channel, m
    assert m["id"] == "%s-%d" % (epoch, seq), m
    assert m["event"] == event, m
    assert m["data"] == data, m
    t = m["time"]
    assert isinstance(t, (int, float)) and not isinstance(t, bool), m
    now = time.time()
    seconds = t / 1000.0 if t > 1e11 else t  # milliseconds or seconds since the Unix epoch
    assert abs(seconds - now) < 60, "message time %r is not now (%r)" % (t, now)


def held_poll(env, channel, held_before=0, **query):
    """Starts a long-poll and waits until holdfast holds it."""
    pending = env.sub_async(channel, **query)
    env.wait_held(held_before + 1)
    return pending


# ---------------------------------------------------------------------------------------------
# publish


def test_publish_without_subscribers_is_202(env):
    r = env.publish("news", {"text": "hello"})
    assert r.status == 202, r
    body = assert_json_response(r)
    assert body["channel"] == "news"
    assert body["subscribers"] == 0
    epoch, seq = split_id(body["id"])
    assert seq == 1
    r2 = env.publish("news", {"text": "again"})
    assert r2.status == 202
    assert r2.json()["id"] == "%s-2" % epoch


def test_publish_to_held_subscriber_is_201(env):
    pending = held_poll(env, "news", transport="longpoll")
    r = env.publish("news", {"n": 1})
    assert r.status == 201, r
    body = assert_json_response(r)
    assert body["channel"] == "news" and body["subscribers"] == 1, body
    got = harness.wait_result(pending, 5)
    assert got.status == 200


def test_publish_needs_the_key(env):
    r = env.publish("news", {"n": 1}, key=None)
    assert_error(r, 401)
    r = env.publish("news", {"n": 1}, key="wrongkey")
    assert_error(r, 403)
    r = env.ctl("POST", "/pub/news", '{"n":1}', {"Content-Type": "application/json",
                                                  "Authorization": "Basic dGVzdGtleQ=="},
                key=None)
    assert r.status in (401, 403), r
    assert_error(r, r.status)
    # nothing was published
    assert env.sub("news", transport="poll", since="oldest").json()["messages"] == []


def test_publish_invalid_json_names_error_and_offset(env):
    r = env.publish("news", '{"a": 1,}')
    body = assert_error(r, 400)
    msg = body["message"]
    assert "offset" in msg.lower() and re.search(r"\b8\b", msg), \
        "message should give the offset 8: %r" % msg
    # RapidJSON's description of this error
    assert "Missing a name for object member" in msg, msg
    r = env.publish("news", '{"a": tru}')
    msg = assert_error(r, 400)["message"]
    # RapidJSON reports where reading stopped: after "tru", at the '}' (offset 9)
    assert re.search(r"\b9\b", msg) and "Invalid value" in msg, msg


def test_publish_json_stored_as_published(env):
    pending = held_poll(env, "raw")
    text = '{ "b" : [1, 2.50, "x"],\n "a":null }'
    assert env.publish("raw", text).status == 201
    got = harness.wait_result(pending, 5)
    # The message object embeds the published JSON text verbatim (not reformatted).
    assert text.encode() in got.body, got.body
    assert got.json()["messages"][0]["data"] == json.loads(text)


def test_publish_text_body_is_a_json_string(env):
    pending = held_poll(env, "txt")
    text = 'hello <b>"world"</b> \\ </script>'
    r = env.publish("txt", text, content_type="text/plain; charset=utf-8")
    assert r.status == 201, r
    got = harness.wait_result(pending, 5)
    assert got.status == 200
    msgs = got.json()["messages"]
    assert len(msgs) == 1 and msgs[0]["data"] == text, msgs


def test_publish_event_name(env):
    pending = held_poll(env, "ev")
    assert env.publish("ev", {"x": 1}, event="greeting").status == 201
    m = harness.wait_result(pending, 5).json()["messages"][0]
    assert m["event"] == "greeting", m


def test_publish_several_channels(env):
    r = env.publish("a,b", {"both": True})
    assert r.status == 202, r
    body = assert_json_response(r)
    # Documented shape for several channels: {"results":[one entry per channel, in order]}.
    results = body["results"]
    assert [e["channel"] for e in results] == ["a", "b"], body
    for e in results:
        assert split_id(e["id"])[1] == 1 and e["subscribers"] == 0, e
    for ch in ("a", "b"):
        msgs = env.sub(ch, transport="poll", since="oldest").json()["messages"]
        assert [m["data"] for m in msgs] == [{"both": True}], (ch, msgs)


def test_batch_publish(env):
    pending = held_poll(env, "b1")
    batch = [{"channel": "b1", "event": "e1", "data": {"i": 1}},
             {"channel": "b2", "event": "e2", "data": "two"},
             {"channel": "b1", "event": "e3", "data": [3]}]
    r = env.ctl("POST", "/pub", json.dumps(batch), {"Content-Type": "application/json"})
    assert r.status == 201, r  # the b1 subscriber was held
    results = assert_json_response(r)["results"]
    assert [e["channel"] for e in results] == ["b1", "b2", "b1"], results
    assert [split_id(e["id"])[1] for e in results] == [1, 1, 2], results
    got = harness.wait_result(pending, 5).json()
    assert [(m["event"], m["data"]) for m in got["messages"]][0] == ("e1", {"i": 1})
    oldest = env.sub("b1", transport="poll", since="oldest").json()["messages"]
    assert [(m["event"], m["data"]) for m in oldest] == [("e1", {"i": 1}), ("e3", [3])]
    b2 = env.sub("b2", transport="poll", since="oldest").json()["messages"]
    assert [(m["event"], m["data"]) for m in b2] == [("e2", "two")]


def test_batch_publish_without_subscribers_is_202(env):
    batch = [{"channel": "q1", "event": "e", "data": 1}]
    r = env.ctl("POST", "/pub", json.dumps(batch), {"Content-Type": "application/json"})
    assert r.status == 202, r
    assert len(r.json()["results"]) == 1


@pytest.mark.parametrize("bad", [
    {"channel": "bad name", "event": "e", "data": 1},
    {"event": "e", "data": 1},
    {"channel": "ok3"},
    "not an object",
])
def test_batch_publish_is_all_or_nothing(env, bad):
    batch = [{"channel": "ok1", "event": "e", "data": 1}, bad,
             {"channel": "ok2", "event": "e", "data": 2}]
    r = env.ctl("POST", "/pub", json.dumps(batch), {"Content-Type": "application/json"})
    assert_error(r, 400)
    for ch in ("ok1", "ok2", "ok3"):
        msgs = env.sub(ch, transport="poll", since="oldest").json()["messages"]
        assert msgs == [], "batch was partly published to %s: %r" % (ch, msgs)
    assert env.stats()["messages"]["published"] == 0


# ---------------------------------------------------------------------------------------------
# subscribe


def test_longpoll_answers_within_50ms_of_publish(env):
    cursor = env.poll_cursor("fast")
    epoch = cursor_epoch(cursor, "fast", 0)
    pending = held_poll(env, "fast", transport="longpoll")
    time.sleep(0.2)
    assert not pending.done.is_set(), "long-poll answered before any publish"
    r = env.publish("fast", {"hello": "world"})
    published_at = time.monotonic()
    assert r.status == 201
    got = harness.wait_result(pending, 5)
    delay = pending.done_at - published_at
    assert delay < 0.050, "long-poll answered %.1f ms after the publish returned" % (delay * 1e3)
    assert got.status == 200
    body = assert_json_response(got)
    assert len(body["messages"]) == 1
    check_message(body["messages"][0], "fast", epoch, 1, {"hello": "world"})
    assert body["cursor"] == "fast:%s-1" % epoch
    assert r.json()["id"] == "%s-1" % epoch


def test_poll_new_channel_answers_at_once(env):
    t0 = time.monotonic()
    r = env.sub("fresh", transport="poll")
    assert time.monotonic() - t0 < 0.5
    assert r.status == 200
    body = assert_json_response(r)
    assert body["messages"] == []
    cursor_epoch(body["cursor"], "fresh", 0)
    # The channel kept its epoch: the next poll and the first publish use it.
    epoch = cursor_epoch(env.sub("fresh", transport="poll").json()["cursor"], "fresh", 0)
    assert env.publish("fresh", 1).json()["id"] == "%s-1" % epoch


def test_default_transport_is_longpoll(env):
    pending = held_poll(env, "dflt")
    assert env.stats()["held"]["longpoll"] == 1
    assert env.publish("dflt", {"v": 1}).status == 201
    got = harness.wait_result(pending, 5)
    body = assert_json_response(got)
    assert [m["data"] for m in body["messages"]] == [{"v": 1}]


def test_longpoll_finds_backlog_and_answers_at_once(env):
    cursor = env.poll_cursor("back")
    env.publish("back", 1)
    env.publish("back", 2)
    t0 = time.monotonic()
    r = env.sub("back", transport="longpoll", cursor=cursor)
    assert time.monotonic() - t0 < 0.5
    assert [m["data"] for m in r.json()["messages"]] == [1, 2]


def test_longpoll_several_channels(env):
    ca = env.poll_cursor("ma")
    cb = env.poll_cursor("mb")
    pending = held_poll(env, "ma,mb", cursor=ca + "," + cb)
    assert env.publish("mb", {"to": "b"}).status == 201
    body = harness.wait_result(pending, 5).json()
    assert [(m["channel"], m["data"]) for m in body["messages"]] == [("mb", {"to": "b"})]
    entries = dict(e.split(":", 1) for e in body["cursor"].split(","))
    assert entries == {"ma": ca.split(":", 1)[1],
                       "mb": cb.split(":", 1)[1][:-2] + "-1"}, body["cursor"]


# ---------------------------------------------------------------------------------------------
# resume


def test_resume_delivers_exactly_the_missed_messages(env):
    cursor = env.poll_cursor("res")
    epoch = cursor_epoch(cursor, "res", 0)
    batch = [{"channel": "res", "event": "message", "data": {"i": i}} for i in range(1, 101)]
    assert env.ctl("POST", "/pub", json.dumps(batch),
                   {"Content-Type": "application/json"}).status == 202
    t0 = time.monotonic()
    r = env.sub("res", transport="longpoll", cursor=cursor)
    assert time.monotonic() - t0 < 1.0, "a long-poll with a backlog must answer at once"
    body = assert_json_response(r)
    assert len(body["messages"]) == 100
    for i, m in enumerate(body["messages"], 1):
        check_message(m, "res", epoch, i, {"i": i})
    assert "gap" not in body or body["gap"] == [], body.get("gap")
    assert body["cursor"] == "res:%s-100" % epoch
    again = env.sub("res", transport="poll", cursor=body["cursor"]).json()
    assert again["messages"] == [] and again["cursor"] == body["cursor"], again


def test_resume_with_last_event_id_header_and_param(env):
    cursor = env.poll_cursor("lei")
    env.publish("lei", 1)
    r = env.sub("lei", transport="poll", headers={"Last-Event-ID": cursor})
    assert [m["data"] for m in r.json()["messages"]] == [1]
    r = env.sub("lei", transport="poll", last_event_id=cursor)
    assert [m["data"] for m in r.json()["messages"]] == [1]


@pytest.mark.holdfast(args=["--buffer-messages", "2000"])
def test_batch_max_limits_one_response(env):
    cursor = env.poll_cursor("big")
    epoch = cursor_epoch(cursor, "big", 0)
    batch = [{"channel": "big", "event": "message", "data": i} for i in range(1, 1006)]
    assert env.ctl("POST", "/pub", json.dumps(batch),
                   {"Content-Type": "application/json"}).status == 202
    first = env.sub("big", transport="poll", cursor=cursor).json()
    assert [m["data"] for m in first["messages"]] == list(range(1, 1001))
    assert first["cursor"] == "big:%s-1000" % epoch
    rest = env.sub("big", transport="longpoll", cursor=first["cursor"]).json()
    assert [m["data"] for m in rest["messages"]] == list(range(1001, 1006))
    assert rest["cursor"] == "big:%s-1005" % epoch


# ---------------------------------------------------------------------------------------------
# gaps and backtracking


@pytest.mark.holdfast(args=["--buffer-messages", "10"])
def test_gap_when_evicted(env):
    cursor = env.poll_cursor("gap")
    epoch = cursor_epoch(cursor, "gap", 0)
    for i in range(1, 31):
        assert env.publish("gap", {"i": i}).status == 202
    body = env.sub("gap", transport="longpoll", cursor=cursor).json()
    assert body.get("gap") == [{"channel": "gap", "requested": "%s-1" % epoch,
                                "first_available": "%s-21" % epoch, "reason": "evicted"}], body
    assert [m["id"] for m in body["messages"]] == ["%s-%d" % (epoch, i) for i in range(21, 31)]
    assert [m["data"]["i"] for m in body["messages"]] == list(range(21, 31))
    assert body["cursor"] == "gap:%s-30" % epoch
    assert env.stats()["messages"]["evicted"] == 20


@pytest.mark.holdfast(args=["--buffer-messages", "10"])
def test_gap_when_epoch_differs(env):
    cursor = env.poll_cursor("ep")
    epoch = cursor_epoch(cursor, "ep", 0)
    for i in range(1, 31):
        env.publish("ep", {"i": i})
    wrong = "Zz9" if epoch != "Zz9" else "Yy8"
    body = env.sub("ep", transport="poll", cursor="ep:%s-25" % wrong).json()
    gap = body.get("gap")
    assert isinstance(gap, list) and len(gap) == 1, body
    assert gap[0]["channel"] == "ep" and gap[0]["reason"] == "epoch", gap
    assert gap[0]["requested"] == "%s-26" % wrong, gap
    assert gap[0]["first_available"] == "%s-21" % epoch, gap
    assert [m["data"]["i"] for m in body["messages"]] == list(range(21, 31))
    assert body["cursor"] == "ep:%s-30" % epoch


def test_gap_reports_are_machine_readable_for_unknown_channels(env):
    # A cursor for a channel that has no history here (e.g. server restarted without state).
    body = env.sub("ghost", transport="poll", cursor="ghost:Abc123-7").json()
    gap = body.get("gap")
    assert isinstance(gap, list) and len(gap) == 1, body
    assert gap[0]["channel"] == "ghost" and gap[0]["reason"] in ("epoch", "unknown"), gap
    assert body["messages"] == []
    cursor_epoch(body["cursor"], "ghost", 0)


def test_since_oldest(env):
    for i in range(1, 6):
        env.publish("old", i)
    body = env.sub("old", transport="poll", since="oldest").json()
    assert [m["data"] for m in body["messages"]] == [1, 2, 3, 4, 5]
    epoch = split_id(body["messages"][0]["id"])[0]
    assert body["cursor"] == "old:%s-5" % epoch
    # without a cursor or since: new messages only
    assert env.sub("old", transport="poll").json()["messages"] == []


def test_last_n(env):
    for i in range(1, 6):
        env.publish("lastn", i)
    assert [m["data"] for m in env.sub("lastn", transport="poll", last="2").json()["messages"]] \
        == [4, 5]
    assert [m["data"] for m in env.sub("lastn", transport="poll", last="50").json()["messages"]] \
        == [1, 2, 3, 4, 5]


def test_longpoll_since_oldest_on_empty_channel_waits(env):
    pending = held_poll(env, "emp", since="oldest")
    assert env.publish("emp", {"v": "x"}).status == 201
    assert [m["data"] for m in harness.wait_result(pending, 5).json()["messages"]] == [{"v": "x"}]


# ---------------------------------------------------------------------------------------------
# timeouts


def test_longpoll_timeout_param(env):
    t0 = time.monotonic()
    r = env.sub("quiet", transport="longpoll", timeout="1")
    elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed <= 4.0, "timeout=1 answered after %.2fs" % elapsed
    assert r.status == 200
    body = assert_json_response(r)
    assert body["messages"] == [] and body["heartbeat"] is True, body
    cursor_epoch(body["cursor"], "quiet", 0)


def test_longpoll_server_timeout(env):
    # holdfast runs with --poll-timeout 2; a larger timeout= is capped by it.
    t0 = time.monotonic()
    r = env.sub("quiet2", transport="longpoll", timeout="60")
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed <= 4.0, "poll_timeout 2 answered after %.2fs" % elapsed
    body = r.json()
    assert body["messages"] == [] and body["heartbeat"] is True, body
    assert env.stats()["held"]["total"] == 0


# ---------------------------------------------------------------------------------------------
# channels


def test_channel_info(env):
    assert_error(env.ctl("GET", "/channels/nochan"), 404)
    env.publish("info", {"a": 1})
    env.publish("info", {"a": 2})
    r = env.ctl("GET", "/channels/info")
    assert r.status == 200
    body = assert_json_response(r)
    assert body["channel"] == "info"
    text = json.dumps(body)
    epoch = split_id(env.sub("info", transport="poll", last="1").json()["messages"][0]["id"])[0]
    assert "%s-1" % epoch in text and "%s-2" % epoch in text, \
        "info should name the first and last ids: %s" % text


def test_channel_list(env):
    for ch in ("la", "lb", "lc"):
        env.publish(ch, 1)
    r = env.ctl("GET", "/channels")
    assert r.status == 200
    body = assert_json_response(r)
    names = {c["channel"] for c in body["channels"]}
    assert {"la", "lb", "lc"} <= names, body


def test_delete_channel_ends_held_longpoll_with_410(env):
    env.publish("gone", 1)
    pending = held_poll(env, "gone")
    r = env.ctl("DELETE", "/channels/gone")
    assert r.status == 200, r
    got = harness.wait_result(pending, 2)
    assert got.status == 410, (got.status, got.body)
    assert_json_response(got)
    env.wait_held(0, timeout=1)
    # the history is gone
    assert env.sub("gone", transport="poll", since="oldest").json()["messages"] == []
    assert_error(env.ctl("DELETE", "/channels/nochan"), 404)


# ---------------------------------------------------------------------------------------------
# stats and health


def test_stats_keys(env):
    r = env.ctl("GET", "/stats")
    assert r.status == 200
    s = assert_json_response(r)
    assert set(s["connections"]) >= {"control", "data"}, s
    assert set(s["held"]) >= {"total", "longpoll", "jsonp", "sse", "iframe", "multipart",
                              "ndjson"}, s
    assert set(s["messages"]) >= {"published", "delivered", "buffered", "buffered_bytes",
                                  "evicted"}, s
    assert set(s["dropped"]) >= {"slow", "gone"}, s
    for key in ("sessions", "channels", "uptime"):
        assert isinstance(s[key], (int, float)), (key, s)
    assert s["held"]["total"] == 0 and s["messages"]["published"] == 0


def test_stats_count(env):
    pending = held_poll(env, "cnt")
    s = env.stats()
    assert s["held"]["total"] == 1 and s["held"]["longpoll"] == 1, s
    assert s["connections"]["data"] >= 1 and s["connections"]["control"] >= 1, s
    env.publish("cnt", {"x": 1})
    harness.wait_result(pending, 5)
    env.publish("cnt2", "abc", content_type="text/plain")
    s = env.stats()
    assert s["messages"]["published"] == 2, s
    assert s["messages"]["delivered"] == 1, s
    assert s["messages"]["buffered"] == 2, s
    assert s["messages"]["buffered_bytes"] > 0, s
    assert s["channels"] == 2, s
    assert s["held"]["total"] == 0, s


def test_health(env):
    r = env.ctl("GET", "/health", key=None)
    assert r.status == 200
    assert_json_response(r)


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("path", ["/push/sub/bad%20name", "/push/sub/bad!name",
                                  "/push/sub/" + "x" * 129, "/push/sub/a,,b"])
def test_bad_channel_name_is_400(env, path):
    assert_error(env.http("GET", path + "?transport=poll"), 400)


def test_bad_channel_name_on_publish_is_400(env):
    assert_error(env.publish("bad%20name", 1), 400)


def test_bad_cursor_names_the_entry(env):
    r = env.sub("cur", transport="poll", cursor="cur:EPOCH-xyz")
    msg = assert_error(r, 400)["message"]
    assert "cur:EPOCH-xyz" in msg, msg
    r = env.sub("cur", transport="poll", cursor="cur:AbC-1,oops")
    msg = assert_error(r, 400)["message"]
    assert "oops" in msg, msg


@pytest.mark.parametrize("query", [{"transport": "carrier-pigeon"}, {"timeout": "soon"},
                                   {"last": "-1"}, {"since": "yesterday"},
                                   {"transport": "jsonp", "callback": "alert(1)"}])
def test_bad_parameters_are_400(env, query):
    assert_error(env.sub("par", **query), 400)


def test_unknown_route_is_404(env):
    assert_error(env.ctl("GET", "/nope"), 404)
    assert_error(env.ctl("GET", "/pubx/a"), 404)


def test_wrong_method_is_405(env):
    assert_error(env.ctl("PUT", "/pub/x", "1", {"Content-Type": "application/json"}), 405)
    assert_error(env.ctl("GET", "/pub/x"), 405)
    assert_error(env.ctl("POST", "/stats", "", {}), 405)
    assert_error(env.http("POST", "/push/sub/x", "1", {"Content-Type": "application/json"}), 405)


@pytest.mark.holdfast(args=["--max-body", "1024"])
def test_body_over_max_body_is_413(env):
    r = env.publish("big", json.dumps("x" * 2048))
    assert_error(r, 413)
    assert env.publish("big", json.dumps("x" * 500)).status == 202
    assert env.stats()["messages"]["published"] == 1


def test_every_response_has_no_store(env):
    responses = [env.publish("ns", 1), env.sub("ns", transport="poll"), env.ctl("GET", "/stats"),
                 env.ctl("GET", "/health"), env.ctl("GET", "/channels"),
                 env.ctl("GET", "/channels/ns"), env.sub("ns", transport="longpoll",
                                                        timeout="1")]
    for r in responses:
        assert "no-store" in (r.header("cache-control") or ""), (r.status, r.headers)

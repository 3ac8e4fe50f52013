#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (run from anywhere; idempotent).
Seeds are small valid inputs, plus a few near misses, for each parser of outside input."""

import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- FastCGI: 2 leading bytes (chunk size, limits), then records.
def rec(rtype, rid, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), pad, 0) + content + b"\0" * pad


def nv(name, value):
    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(name)) + ln(len(value)) + name + value


params = nv(b"REQUEST_METHOD", b"GET") + nv(b"REQUEST_URI", b"/push/sub/a?transport=poll")
get = rec(1, 1, struct.pack(">HB5x", 1, 1)) + rec(4, 1, params) + rec(4, 1) + rec(5, 1)
write("fcgi_parser_fuzz", "get", b"\x07\x00" + get)
post = (rec(1, 2, struct.pack(">HB5x", 1, 0)) + rec(4, 2, nv(b"REQUEST_METHOD", b"POST"))
        + rec(4, 2) + rec(5, 2, b'{"x":1}') + rec(5, 2))
write("fcgi_parser_fuzz", "post_keepconn", b"\x03\x81" + post + get)
write("fcgi_parser_fuzz", "abort", b"\x01\x02" + rec(1, 3, struct.pack(">HB5x", 1, 1)) + rec(2, 3))
write("fcgi_parser_fuzz", "get_values", b"\x10\x00" + rec(9, 0, nv(b"FCGI_MAX_CONNS", b"")
                                                        + nv(b"FCGI_MPXS_CONNS", b"")))
write("fcgi_parser_fuzz", "unknown_type", b"\x05\x00" + rec(42, 0, b"x"))

# --- query strings and request targets
for i, q in enumerate(["transport=poll&cursor=a%3AT1-3&timeout=5", "a=1&&b&c=%41%42+x",
                       "/push/sub/a,b?last=3&since=oldest", "%zz", "callback=cb.x&session=new",
                       "/push/ctl/pub/room%2E1?event=note"]):
    write("query_fuzz", "q%d" % i, q)

# --- cursors: 1 leading shape byte, then the cursor text
for i, c in enumerate(["a:T1-3", "a:T1-3,b:T2-0", "room.1:Ab_-9-18446744073709551615",
                       "a:T1-3,a:T1-4", "a,b,c", "x:-1", ""]):
    write("cursor_fuzz", "c%d" % i, bytes([0x35 + i]) + c.encode())

# --- config files
write("config_fuzz", "minimal", json.dumps({"control": "tcp:127.0.0.1:9001"}))
write("config_fuzz", "full", json.dumps({
    "control": "unix:/run/holdfast/control.sock", "data": "tcp:127.0.0.1:9002",
    "control_mount": "/push/ctl", "data_mount": "/push/sub", "publish_key": "k",
    "trusted_control": False, "state_dir": "/var/lib/holdfast", "journal_sync": "always",
    "journal_sync_interval": 100, "journal_max_bytes": "16M", "log_level": "debug",
    "buffer_messages": 10, "buffer_age": "60s", "buffer_bytes": "1M", "memory_limit": "64M",
    "poll_timeout": 20, "heartbeat": 15, "allowed_origins": ["https://a.example"],
    "client_publish": ["room.*"], "private_prefix": "private.", "token_key": "t"}, indent=1))
write("config_fuzz", "bad", '{"buffer_messages": -1, "nope": 1, "heartbeat": "x"}')


# --- snapshot (state file version 2)
def snapshot(channels, gen=3, clean="unclean", sync="interval", boot="b0"):
    out = "HOLDFAST-STATE 2\nG %d %s %s %s\n" % (gen, clean, sync, boot)
    for name, epoch, last, msgs in channels:
        out += "C %s %s %d %d\n" % (name, epoch, last, len(msgs))
        for seq, event, js in msgs:
            out += "M %d 1700000000000 %s %d\n%s\n" % (seq, event, len(js), js)
    out = out.encode()
    return out + b"END %08x\n" % zlib.crc32(out)


def msg_json(ch, epoch, seq, data):
    return '{"channel":"%s","id":"%s-%d","event":"message","data":%s,"time":1}' % (
        ch, epoch, seq, data)


write("state_file_fuzz", "two_channels", snapshot([
    ("a", "E1", 2, [(1, "message", msg_json("a", "E1", 1, "1")),
                    (2, "note", msg_json("a", "E1", 2, '"x\\ny"'))]),
    ("b", "E2", 7, [])]))
write("state_file_fuzz", "empty_clean", snapshot([], gen=1, clean="clean", sync="always", boot="-"))
write("state_file_fuzz", "v1", "HOLDFAST-STATE 1\nC a T1 0 0\nEND\n")


# --- journal: 1 leading byte (snapshot shape), then the journal file
def jheader(gen):
    h = b"HFJOURN1" + struct.pack("<Q", gen)
    return h + struct.pack("<I", zlib.crc32(h))


def jrecord(payload):
    ln = struct.pack("<I", len(payload))
    return ln + struct.pack("<I", zlib.crc32(payload, zlib.crc32(ln))) + payload


def jpublish(ch, epoch, seq, data, event="message"):
    js = msg_json(ch, epoch, seq, data).encode()
    return jrecord(b"P" + bytes([len(ch)]) + ch.encode() + bytes([len(epoch)]) + epoch.encode()
                   + struct.pack("<Qq", seq, 1700000000000) + bytes([len(event)]) + event.encode()
                   + struct.pack("<I", len(js)) + js)


def jdelete(ch):
    return jrecord(b"D" + bytes([len(ch)]) + ch.encode())


j = jheader(4) + jpublish("a", "E1", 1, "1") + jpublish("a", "E1", 2, "2") + jdelete("a")
j += jpublish("a", "E9", 1, '{"k":[1,2]}') + jpublish("b", "E3", 1, '"t"', "note")
write("journal_fuzz", "fresh", b"\x00" + j)
write("journal_fuzz", "continues_snapshot", b"\x82" + jheader(1) + jpublish("a", "E1", 3, "3"))
write("journal_fuzz", "torn", b"\x00" + j[:-5])
write("journal_fuzz", "header_only", b"\x00" + jheader(0))


def framed_mode(*records):
    """Payloads for journal_fuzz's framed mode (first byte bit 0x40): u8 length + payload."""
    out = b""
    for r in records:
        payload = r[8:]  # strip the length and CRC that jrecord added
        assert len(payload) < 256
        out += bytes([len(payload)]) + payload
    return out


write("journal_fuzz", "framed", b"\x40" + framed_mode(
    jpublish("a", "E1", 1, "1"), jpublish("a", "E1", 2, "[2]", "note"), jdelete("a"),
    jpublish("b", "E2", 1, '"s"')))
write("journal_fuzz", "framed_continues", b"\xc3" + framed_mode(jpublish("a", "E1", 4, "4")))


# --- FastCGI responder output (holdfastctl's decoder): 1 leading chunk-size byte, then records
cgi = b"Status: 201 Created\r\nContent-Type: application/json\r\n\r\n{\"id\":\"a:E1-1\"}"
write("fcgi_response_fuzz", "created", b"\x05" + rec(6, 1, cgi) + rec(6, 1)
      + rec(3, 1, struct.pack(">IB3x", 0, 0)))
write("fcgi_response_fuzz", "stderr_and_stdout", b"\x10" + rec(7, 1, b"warning") + rec(7, 1)
      + rec(6, 1, b"Content-Type: text/plain\n\nok") + rec(6, 1)
      + rec(3, 1, struct.pack(">IB3x", 0, 0)))
write("fcgi_response_fuzz", "no_status", b"\x00" + rec(6, 1, b"\r\n") + rec(3, 1, b"\0" * 8))


# --- Redis replies (RESP): 1 leading byte picks the parser (0 publish, 1 read, 2 info,
# 3 integer, 4 NOSCRIPT, 5 session fetch; +1 for each further reply in the input)
def resp(v):
    if v is None:
        return b"$-1\r\n"
    if isinstance(v, int):
        return b":%d\r\n" % v
    if isinstance(v, list):
        return b"*%d\r\n" % len(v) + b"".join(resp(x) for x in v)
    if isinstance(v, Exception):
        return b"-%s\r\n" % str(v).encode()
    v = v.encode() if isinstance(v, str) else v
    return b"$%d\r\n%s\r\n" % (len(v), v)


def entry(seq, data, event="message"):
    return ["%d-0" % seq, ["e", event, "d", data, "j", "1", "t", "1700000000000"]]


write("redis_reply_fuzz", "publish", b"\x00" + resp(["E1", 3, 2, 0, 1]))
write("redis_reply_fuzz", "read", b"\x01" + resp(["E1", 5, 3, 4, 0, [entry(4, "4"),
                                                                      entry(5, '"x"', "note")]]))
write("redis_reply_fuzz", "read_empty", b"\x01" + resp(["E1", 0, 1, 1, 1, []]))
write("redis_reply_fuzz", "info", b"\x02" + resp(["E1", 9, 120, 3, 7, 9, 1700000000000]))
write("redis_reply_fuzz", "info_missing", b"\x02" + resp(None))
write("redis_reply_fuzz", "integer_then_error", b"\x03" + resp(1) + resp(Exception("ERR x")))
write("redis_reply_fuzz", "noscript", b"\x04" + resp(Exception("NOSCRIPT No matching script")))
write("redis_reply_fuzz", "session", b"\x05" + resp(["cursor", "a:E1-3,b:E2-0", "node", "n1"]))
write("redis_reply_fuzz", "session_missing", b"\x05" + resp([]))

# --- control messages between nodes: 1 leading byte (max_channels), then the message
for i, m in enumerate(["C\nabcDEF123_-", "X\nabcDEF123_-", "S\nabcDEF123_-\na:E1-3,b:E2-0",
                       "U\nabcDEF123_-\na,b", "S\nabc\n", "Q\nabc"]):
    write("session_message_fuzz", "m%d" % i, bytes([0x07]) + m.encode())

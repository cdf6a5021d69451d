#!/usr/bin/env python3
"""Writes the parser fuzzer's seed datagrams into fuzz/corpus/parser/ (deterministic; rerun after edits).

Layout (/work/shared/REFERENCE.md A.1), little-endian:
  nlmsghdr 16: u32 len, u16 type, u16 flags, u32 seq, u32 pid
  cn_msg   20: u32 idx, u32 val, u32 seq, u32 ack, u16 len, u16 flags
  proc_event 40: u32 what, u32 cpu, u64 timestamp_ns, 24-byte union
A kernel event datagram is 76 bytes, sent as NLMSG_DONE.
"""
import os
import struct

NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
CN_IDX_PROC = CN_VAL_PROC = 1
NONE, FORK, EXEC, UID, GID, SID, PTRACE, COMM = 0x0, 0x1, 0x2, 0x4, 0x40, 0x80, 0x100, 0x200
NONZERO_EXIT, COREDUMP, EXIT = 0x20000000, 0x40000000, 0x80000000
TIMESTAMP = 123456789
SIGCHLD = 17


def nlmsg(msg_type, payload):
    data = struct.pack("<IHHII", 16 + len(payload), msg_type, 0, 0, 0) + payload
    return data + b"\0" * (-len(data) % 4)  # NLMSG_ALIGN between messages


def event(what, union, cpu=1, seq=1, ack=0, idx=CN_IDX_PROC, cn_len=None):
    body = struct.pack("<IIQ", what, cpu, TIMESTAMP) + union.ljust(24, b"\0")
    cn = struct.pack("<IIIIHH", idx, CN_VAL_PROC, seq, ack, len(body) if cn_len is None else cn_len, 0)
    return nlmsg(NLMSG_DONE, cn + body)


def ints(*values):
    return b"".join(struct.pack("<i" if v < 0 else "<I", v) for v in values)


def comm(pid, name):
    return ints(pid, pid) + name.encode().ljust(16, b"\0")[:16]


fork = event(FORK, ints(100, 100, 200, 200))
SEEDS = {
    # The kernel's messages, one per datagram.
    "ack": event(NONE, ints(0)),
    "ack_einval": event(NONE, ints(22), cpu=0xFFFFFFFF, ack=2),
    "fork": fork,
    "thread": event(FORK, ints(1, 1, 201, 200)),
    "exec": event(EXEC, ints(200, 200)),
    "uid": event(UID, ints(5, 5, 1000, 0)),
    "gid": event(GID, ints(5, 5, 100, 100)),
    "sid": event(SID, ints(5, 5)),
    "ptrace": event(PTRACE, ints(5, 5, 6, 6)),
    "comm": event(COMM, ints(5, 5)),
    "comm_named": event(COMM, comm(5, "kworker/u8:1")),
    "comm_unterminated": event(COMM, comm(5, "x" * 16)),
    "coredump": event(COREDUMP, ints(200, 200, 100, 100)),
    "exit3": event(EXIT, ints(200, 200, 3 << 8, SIGCHLD, 100, 100)),
    "exit_sigsegv_core": event(EXIT, ints(200, 200, 0x80 | 11, SIGCHLD, 100, 100)),
    "exit_thread": event(EXIT, ints(201, 200, 0, 0xFFFFFFFF, 1, 1)),
    "unknown_what": event(NONZERO_EXIT, b""),
    # Control messages.
    "error": nlmsg(NLMSG_ERROR, ints(-1)),
    "netlink_ack": nlmsg(NLMSG_ERROR, ints(0)),
    "noop": nlmsg(NLMSG_NOOP, b""),
    "overrun": nlmsg(NLMSG_OVERRUN, b""),
    "done_empty": nlmsg(NLMSG_DONE, b""),
    "other_connector": event(EXEC, ints(1, 1), idx=2),
    # Several messages in one datagram, and lies.
    "two": event(EXEC, ints(1, 1)) + event(EXIT, ints(1, 1, 0, SIGCHLD)),
    "three_mixed": nlmsg(NLMSG_NOOP, b"\1") + fork + nlmsg(NLMSG_OVERRUN, b""),
    "truncated": fork[:50],
    "bad_nl_len": struct.pack("<I", 200) + fork[4:],
    "bad_cn_len": event(EXEC, ints(1, 1), cn_len=400),
    "short_event": event(EXIT, ints(1, 1), cn_len=24),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "parser")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()

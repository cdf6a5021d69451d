#!/usr/bin/env python3
"""Writes the taskstats fuzzer's seed datagrams into fuzz/corpus/taskstats/ (deterministic; rerun after edits).

Layout (<linux/taskstats.h>, <linux/genetlink.h>), little-endian, every attribute padded to 4 bytes:
  nlmsghdr 16: u32 len, u16 type (the TASKSTATS family id; the seeds use 0x1c), u16 flags, u32 seq, u32 pid
  genlmsghdr 4: u8 cmd (TASKSTATS_CMD_NEW = 2), u8 version, u16 reserved
  nlattr: u16 len (unpadded, header included), u16 type
  TASKSTATS_TYPE_AGGR_PID (4) { TYPE_PID (1) u32, [TYPE_NULL (6) pad], TYPE_STATS (3) struct taskstats }
  TASKSTATS_TYPE_AGGR_TGID (5) { TYPE_TGID (2) u32, TYPE_STATS } after it for a multi-threaded process's last thread
struct taskstats offsets used below: version 0, ac_exitcode 4, ac_flag 8, cpu_delay_total 24, blkio_delay_total 40,
ac_comm 80 (32 bytes), ac_uid 120, ac_gid 124, ac_pid 128, ac_ppid 132, ac_etime 144, ac_utime 152, ac_stime 160,
ac_minflt 168 (the parser's core minimum), hiwater_rss 200, read_bytes 248, write_bytes 256, nvcsw 272, nivcsw 280,
ac_tgid 368 (v12), ac_exe_dev 384, ac_exe_inode 392, sizeof 416 (v13); a 6.18 kernel sends 560 bytes (v16).
Besides these, real_exit_v16 and real_group_exit_v16 in the corpus were captured from a 6.18 kernel
(/bin/true, and a process that joined a thread) with their nlmsg_type rewritten to 0x1c; this script keeps them.
"""
import os
import struct

FAMILY = 0x1C
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
CMD_NEW = 2
TYPE_PID, TYPE_TGID, TYPE_STATS, TYPE_AGGR_PID, TYPE_AGGR_TGID, TYPE_NULL = 1, 2, 3, 4, 5, 6
NLA_F_NESTED = 0x8000
CORE, SIZEOF_V13, SIZEOF_V16 = 168, 416, 560


def stats(version=13, size=SIZEOF_V13, comm=b"worker", exitcode=3 << 8, flag=0x12, tgid=4240):
    b = bytearray(max(size, SIZEOF_V13))
    struct.pack_into("<HxxIB", b, 0, version, exitcode, flag)
    struct.pack_into("<Q", b, 24, 1000001)
    struct.pack_into("<Q", b, 40, 2000002)
    b[80:80 + len(comm[:32])] = comm[:32]
    struct.pack_into("<IIII", b, 120, 1000, 1001, 4242, 4141)
    struct.pack_into("<QQQ", b, 144, 3000003, 4000004, 5000005)
    struct.pack_into("<Q", b, 200, 8008)
    struct.pack_into("<QQ", b, 248, 10010, 11011)
    struct.pack_into("<QQ", b, 272, 13013, 14014)
    struct.pack_into("<I", b, 368, tgid)
    struct.pack_into("<QQ", b, 384, 0x803, 16016016)
    for i in range(SIZEOF_V13, len(b)):
        b[i] = 0xA5  # a newer kernel's fields
    return bytes(b[:size])


def attr(attr_type, payload):
    data = struct.pack("<HH", 4 + len(payload), attr_type) + payload
    return data + b"\0" * (-len(data) % 4)


def aggregate(thread_group, ident, body, null_pad=False, nested=0):
    inner = attr(TYPE_TGID if thread_group else TYPE_PID, struct.pack("<I", ident))
    if null_pad:
        inner += attr(TYPE_NULL, b"")
    inner += attr(TYPE_STATS, body)
    return attr((TYPE_AGGR_TGID if thread_group else TYPE_AGGR_PID) | nested, inner)


def nlmsg(msg_type, payload):
    data = struct.pack("<IHHII", 16 + len(payload), msg_type, 0, 0, 0) + payload
    return data + b"\0" * (-len(data) % 4)  # NLMSG_ALIGN between messages


def genl(attributes, msg_type=FAMILY, cmd=CMD_NEW):
    return nlmsg(msg_type, struct.pack("<BBH", cmd, 1, 0) + attributes)


def exit_msg(pid, body, **kw):
    return genl(aggregate(False, pid, body, **kw))


full = exit_msg(4242, stats())
SEEDS = {
    # What kernels send, one message per datagram, for each struct size a version implies.
    "exit_v13": full,
    "exit_v13_null_pad": exit_msg(4242, stats(), null_pad=True),
    "exit_v16": exit_msg(4242, stats(16, SIZEOF_V16)),
    "exit_core_only": exit_msg(5, stats(1, CORE)),
    "exit_v3_memory": exit_msg(5, stats(3, 216)),
    "exit_v4_io_switches": exit_msg(5, stats(4, 288)),
    "exit_v11": exit_msg(5, stats(11, 368)),
    "exit_v11_long": exit_msg(5, stats(11, SIZEOF_V13)),
    "exit_v12": exit_msg(5, stats(12, 400)),
    "exit_comm_unterminated": exit_msg(6, stats(comm=b"x" * 32)),
    "group_exit": genl(aggregate(False, 501, stats()) + aggregate(True, 500, stats(comm=b""))),
    "group_exit_null_pad": genl(aggregate(False, 501, stats(), True) + aggregate(True, 500, stats(), True)),
    "nested_flags": genl(aggregate(False, 7, stats(), nested=NLA_F_NESTED)),
    "padding_and_unknown": genl(attr(TYPE_NULL, b"") + attr(99, b"\xff" * 5) +
                                attr(TYPE_AGGR_PID, attr(TYPE_NULL, b"") + attr(77, b"\1\2\3") +
                                     attr(TYPE_PID, struct.pack("<I", 8)) + attr(TYPE_STATS, stats()))),
    "no_aggregates": genl(attr(TYPE_NULL, b"")),
    # Control messages, other families.
    "ack": nlmsg(NLMSG_ERROR, struct.pack("<i", 0) + b"\0" * 16),
    "error_eperm": nlmsg(NLMSG_ERROR, struct.pack("<i", -1)),
    "error_int_min": nlmsg(NLMSG_ERROR, struct.pack("<i", -2**31)),
    "noop": nlmsg(NLMSG_NOOP, b""),
    "done": nlmsg(NLMSG_DONE, b""),
    "overrun": nlmsg(NLMSG_OVERRUN, b""),
    "other_family": exit_msg(9, stats())[:4] + struct.pack("<H", FAMILY + 1) + exit_msg(9, stats())[6:],
    # Several messages, and lies.
    "mixed": full + nlmsg(NLMSG_NOOP, b"") + genl(aggregate(False, 11, stats(8, 288))) + nlmsg(NLMSG_OVERRUN, b""),
    "truncated": full[:300],
    "bad_nlmsg_len": struct.pack("<I", 2000) + full[4:],
    "bad_aggregate_len": full[:20] + struct.pack("<H", 0xFFFF) + full[22:],
    "bad_stats_len": full[:32] + struct.pack("<H", 9) + full[34:],
    "short_stats": exit_msg(5, stats(size=CORE - 1)),
    "missing_id": genl(attr(TYPE_AGGR_PID, attr(TYPE_STATS, stats()))),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "taskstats")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()

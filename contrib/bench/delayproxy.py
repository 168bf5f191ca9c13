#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
"""delayproxy.py - forward TCP on 127.0.0.1, delaying each direction.

usage: delayproxy.py --listen PORT|0 --to HOST:PORT --delay MS [--port-file F]

Accepts connections on 127.0.0.1:PORT (0: a free port, printed and written
to --port-file) and forwards each to HOST:PORT, holding every chunk read in
either direction for MS milliseconds before writing it on: a round trip of
2 x MS over loopback, with the order of the bytes and the bandwidth of the
path kept (chunks are not held back behind each other, only delayed).
Standard library only; stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import signal
import socket
import time


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def later():
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    task = asyncio.ensure_future(later())
    try:
        while True:
            data = await reader.read(256 * 1024)
            q.put_nowait((time.monotonic() + delay, data or None))
            if not data:
                break
    except OSError:
        q.put_nowait((0, None))
    try:
        await task
    except OSError:
        pass


async def handle(cr, cw, host, port, delay):
    try:
        sr, sw = await asyncio.open_connection(host, port)
    except OSError:
        cw.close()
        return
    for w in (cw, sw):
        s = w.get_extra_info("socket")
        if s is not None:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(pump(cr, sw, delay), pump(sr, cw, delay),
                         return_exceptions=True)
    for w in (cw, sw):
        w.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--to", required=True)
    ap.add_argument("--delay", type=float, required=True, help="ms")
    ap.add_argument("--port-file")
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    delay = a.delay / 1000.0
    srv = await asyncio.start_server(
        lambda r, w: handle(r, w, host, int(port), delay),
        "127.0.0.1", a.listen)
    lport = srv.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % lport)
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    print(lport, flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    async with srv:
        await stop


if __name__ == "__main__":
    asyncio.run(main())

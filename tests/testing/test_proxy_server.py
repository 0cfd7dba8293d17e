"""The test proxy's start-up: it returns only once it listens, never with an endpoint that
names no port (which sent one CI run's client to port 0)."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from unittest import mock

import pytest
from aiohttp import web

from mpu_toolkit.testing import FaultProxy
from mpu_toolkit.testing import proxy_server


def test_started_means_listening_on_the_port_it_names(server) -> None:
    with FaultProxy(server.endpoint_url) as proxy:
        assert proxy.port > 0
        try:  # an unsigned ListBuckets: moto answers it, RGW refuses it; either is an answer
            urllib.request.urlopen(proxy.endpoint_url + "/", timeout=30).close()
        except urllib.error.HTTPError as refused:
            assert refused.code == 403
        assert proxy.seen == ["ListBuckets"]


def test_a_proxy_slower_to_start_than_the_timeout_is_an_error_not_port_0(server) -> None:
    original = web.TCPSite.start

    async def slow_start(site: web.TCPSite) -> None:
        await asyncio.sleep(1.0)
        await original(site)

    proxy = FaultProxy(server.endpoint_url)
    with mock.patch.object(web.TCPSite, "start", slow_start), \
            mock.patch.object(proxy_server, "_START_TIMEOUT", 0.2):
        with pytest.raises(RuntimeError, match="did not start listening"):
            proxy.start()
    proxy._thread.join(0.1)
    asyncio.run_coroutine_threadsafe(asyncio.sleep(1.5), proxy._loop).result(10)
    proxy.stop()

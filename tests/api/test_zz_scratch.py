import asyncio, socket, time
from tests.api.conftest import *

async def test_inf(api):
    await api.register("wa")
    for v in ["inf", "1e400", "nan", "-1", "abc", "1e308"]:
        t0=time.monotonic()
        r = await api.poll("wa", timeout=v)
        print(v, r.url, r.status, await r.text(), time.monotonic()-t0)

async def test_hb_same_ms(api):
    await api.register("wa")
    for i in range(20):
        print(await api.store.heartbeat("wa", None), end=" ")

async def test_bad_utf8(api):
    host, port = api.client.host, api.client.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Client-Token: \xff\xfe\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(300), 2)
    print("utf8", data[:300])
    writer.close()
    await writer.wait_closed()

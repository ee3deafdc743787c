import cProfile
import pstats
import sys
import tempfile
import time

sys.argv = ["x"]
from bench.send import *

port = free_port()
sink = start_sink(port)
tmp = tempfile.mkdtemp()
settings = config(f"sqlite:///{tmp}/b.sqlite3", port, tmp)
settings["SEND_CONCURRENCY"] = 1
digest_id, size = prepare(settings, 3000)
start_send(settings, digest_id)
from newsletter import create_app

app = create_app(settings)
t = time.perf_counter()
cProfile.run("engine.work_on(app, digest_id, concurrency=1)", "/tmp/send.prof")
print("elapsed", time.perf_counter() - t)
sink.terminate()
p = pstats.Stats("/tmp/send.prof")
p.sort_stats("tottime").print_stats(30)

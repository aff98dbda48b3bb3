# Production server (gunicorn reads this file from the working directory):
# gunicorn supervises uvicorn workers, which serve the ASGI app (HTTP and WebSockets).
import gc
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn_worker.UvicornWorker"
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
timeout = 30


def post_worker_init(worker):
    # Everything loaded so far (Django, the apps, the URL conf) lives as long as
    # the worker: move it out of the garbage collector's sight. A full collection
    # otherwise walks ~90,000 such objects (about 50 ms in-process), and the
    # younger ones get slower too; p99 is where that showed (docs/performance.md).
    gc.collect()  # start-up's own garbage is freed first, not kept for good
    gc.freeze()

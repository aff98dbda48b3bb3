# Production server (gunicorn reads this file from the working directory):
# gunicorn supervises uvicorn workers, which serve the ASGI app (HTTP and WebSockets).
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn_worker.UvicornWorker"
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
timeout = 30

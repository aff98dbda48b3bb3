"""Real training, run by a worker: timm classifiers and Ultralytics YOLO models.

Imports torch, timm and ultralytics lazily: the web service does not need them.
"""

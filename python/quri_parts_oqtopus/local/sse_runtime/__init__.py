"""What the local server puts on SSE programs' PYTHONPATH: the ``sse_driver`` module."""

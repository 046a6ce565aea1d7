"""Benchmark harness for therapy-kb ``bench.run``, ``bench.synth``, ``bench.scale``.

Not part of the service: nothing under ``app/`` imports it, and the Docker image leaves it out.
"""

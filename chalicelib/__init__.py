"""Klyph clip engine: everything the Chalice app wires together.

Layout: ``domain`` is pure (no boto3, no subprocess), ``adapters`` own one AWS
service or ffmpeg each, ``services`` are the use cases the handlers call.
"""

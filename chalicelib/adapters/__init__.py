"""Adapters at the edges; each owns one AWS service or the ffmpeg binary."""

"""Pure domain code: ids, slugs, transcripts, clip selection, ffmpeg argument building."""

"""Which frame sells the clip: a face that is visible and sharp, not at the clip's very edges;
none without a face (the render then takes the most representative frame)."""
from chalicelib.domain.thumbnails import best_face_time, title_ass


def test_the_sharp_face_wins_over_a_larger_blurred_one_and_the_edges():
    face, big = (100, 100, 120, 120), (90, 90, 160, 160)
    samples = [(0.1, [face]), (2.0, [big]), (4.0, [face]), (6.0, []), (9.9, [face])]
    # A head turning into motion blur at 2 s (Laplacian variance 40), in focus at 4 s (400); the
    # same face sharper still at the clip's first and last tenth of a second, where it may be cut.
    assert best_face_time(samples, {0.1: 500.0, 2.0: 40.0, 4.0: 400.0, 9.9: 500.0}, duration=10.0) == 4.0
    # Sharpness unmeasured: the largest face.
    assert best_face_time(samples, {}, duration=10.0) == 2.0
    assert best_face_time([(1.0, []), (2.0, [])], {}, duration=10.0) is None


def test_the_title_overlay_sits_in_the_top_third_in_the_shipped_fonts():
    script = title_ass("Why do tomatoes split?", 1080, 1920, "en")
    assert "PlayResX: 1080" in script and "PlayResY: 1920" in script
    assert script.rstrip().endswith("Why do tomatoes split?")
    style = next(line for line in script.splitlines() if line.startswith("Style: Title,"))
    assert style.split(",")[18] == "8"  # alignment 8: top centre

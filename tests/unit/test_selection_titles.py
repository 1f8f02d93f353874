"""Clip titles and descriptions: drawn from what is said, short, whole words, no ellipsis."""
import pytest

from chalicelib.domain.titles import (
    DESCRIPTION_MAX_CHARS,
    TITLE_MAX_CHARS,
    clean,
    shorten,
    tidy_description,
    tidy_title,
    title_and_description,
)


@pytest.mark.parametrize(
    "spoken, title",
    [
        ("So, um, the secret is, uh, consistency.", "The secret is consistency"),
        ("and how do you know what to charge?", "How do you know what to charge?"),
        ("[laughter] Well, you know, that was the worst day of my life!", "That was the worst day of my life!"),
        ("WHY DOES NOBODY TALK ABOUT THIS?", "Why does nobody talk about this?"),
        ("i think that i was wrong about pricing.", "I was wrong about pricing"),
        ("Okay. (laughs)", "Okay"),
    ],
)
def test_titles_drop_fillers_and_stage_directions_and_are_sentence_cased(spoken, title):
    assert tidy_title(spoken) == title


def test_long_sentences_are_cut_at_a_clause_or_whole_word_never_mid_word_or_on_a_dangling_word():
    claim = ("Pricing is the most neglected lever in an early stage startup, and founders spend months on "
             "features but only an afternoon on the price")
    title = tidy_title(claim)
    assert title == "Pricing is the most neglected lever in an early stage startup"  # up to the comma
    run_on = "Founders spend months building features and about an afternoon deciding the price of the product"
    title = tidy_title(run_on)
    assert len(title) <= TITLE_MAX_CHARS and run_on.startswith(title + " ")
    assert title.split()[-1].lower() not in {"the", "of", "and", "a", "to"}
    assert not title.endswith(("…", "...", ",", "."))
    # Seen on a local job: "... and you arrive without" (the sentence went on "without sweating").
    commute = "A ten mile commute takes about forty minutes, and you arrive at the office without sweating at all"
    assert shorten(commute, 70).split()[-1] not in {"without", "at", "across", "during"}
    assert shorten("An electric bike commute is forty minutes and you arrive without sweating", 66) == (
        "An electric bike commute is forty minutes and you arrive")
    assert tidy_title("Supercalifragilistic" * 5) == ""  # one 100-letter word: the caller uses its own title
    assert shorten("short enough", 70) == "short enough"


def test_descriptions_keep_whole_sentences_within_the_limit():
    text = " ".join(f"Sentence number {k} says something useful about the topic." for k in range(10))
    d = tidy_description(text)
    assert len(d) <= DESCRIPTION_MAX_CHARS and d.endswith(".") and d.count(".") >= 2
    long = "This one sentence " + "goes on and on " * 20 + "until the end."
    d = tidy_description(long)
    assert len(d) <= DESCRIPTION_MAX_CHARS and d.endswith(".") and long.startswith(d[:-1])


def test_title_prefers_the_opening_hook_and_the_description_follows_it():
    sentences = ["Why does sourdough taste sour?", "The bacteria produce lactic and acetic acid.",
                 "A long cold proof makes it deeper."]
    title, description = title_and_description(sentences, [1.0, 0.0, 0.0])
    assert title == "Why does sourdough taste sour?"
    assert description == "The bacteria produce lactic and acetic acid. A long cold proof makes it deeper."
    # A filler opener loses to the claim after it.
    title, description = title_and_description(["Yeah.", "Nobody tells you that the first week is the hardest."],
                                               [0.0, 0.8])
    assert title == "Nobody tells you that the first week is the hardest"
    assert description == "Yeah."  # the only other sentence
    assert clean("  um,   so   we shipped it ") == "we shipped it"

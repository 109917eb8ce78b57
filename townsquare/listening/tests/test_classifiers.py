"""The shipped spam, toxicity and emotion models on meaningful examples and on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.classifier import (
    DECISION_CHUNK,
    exempt_as_a_share,
    features,
    shipped_model,
)
from townsquare.listening.analyzers.emotion import EmotionAnalyzer
from townsquare.listening.analyzers.registry import get_analyzer
from townsquare.listening.analyzers.spam import SpamAnalyzer
from townsquare.listening.analyzers.toxicity import ToxicityAnalyzer
from townsquare.listening.training import binary_figures, load_community, load_tweeteval


def scores(analyzer: SpamAnalyzer | ToxicityAnalyzer, *texts: str) -> list[float]:
    return [r["score"] for r in analyzer.analyze([TextItem(t, "en") for t in texts])]


def test_it_scores_channel_promotion_above_a_song_comment() -> None:
    spam, song = scores(
        SpamAnalyzer(),
        "Check out my channel!!! subscribe http://bit.ly/x",
        "Great song, reminds me of summer",
    )
    assert spam > 0.5 > song


def test_it_flags_spam_and_leaves_a_support_question_alone() -> None:
    results = SpamAnalyzer().analyze(
        [
            TextItem("WIN a FREE iPhone now, click here www.prizes-now.com and claim it"),
            TextItem("Has anyone managed to run the importer on a Slack export from 2016?"),
        ]
    )
    assert [r["flag"] for r in results] == [True, False]


def test_it_does_not_flag_messages_that_share_a_link() -> None:
    # In a community tool people share links all the time: a link is not spam.
    results = SpamAnalyzer().analyze(
        [
            TextItem("https://github.com/plotline/plotline/issues/42", "en"),
            TextItem("Here is the doc: https://plotline.example/docs/legend", "en"),
            TextItem("check out my channel, subscribe http://bit.ly/x", "en"),
        ]
    )
    assert [r["flag"] for r in results] == [False, False, True]


def test_it_flags_few_genuine_community_messages_it_never_saw(shared_data: Path) -> None:
    # Mastodon notes and Reddit comments are never trained on (no licence to ship a model
    # learned from them): a held-out measure of false flags on real community text.
    texts = [
        *load_community(shared_data, "mastodon_outbox_dealingwith").texts,
        *load_community(shared_data, "reddit_airline_subreddits").texts,
    ]
    spam = np.mean([r["flag"] for r in SpamAnalyzer().analyze([TextItem(t) for t in texts])])
    toxic = np.mean([r["flag"] for r in ToxicityAnalyzer().analyze([TextItem(t) for t in texts])])
    assert spam < 0.03
    assert toxic < 0.03


def test_it_does_not_flag_short_neutral_questions() -> None:
    # v2 flagged these (0.63 and 0.59 over a 0.56 threshold): a tweet-trained model reads "you"
    # and plain English as offensive unless it also learns from ordinary chat.
    texts = ["Can you post the full traceback?", "I've been stuck on this for two hours.",
             "Good point.", "Any update on this?", "Which version are you on?"]  # fmt: skip
    assert not any(r["flag"] for r in ToxicityAnalyzer().analyze([TextItem(t) for t in texts]))
    (insult,) = ToxicityAnalyzer().analyze([TextItem("you are an idiot")])
    assert insult["flag"]


def test_it_scores_frustration_at_software_below_an_insult() -> None:
    # Toxic means abuse aimed at people, not frustration with a product.
    frustrated, insult = scores(
        ToxicityAnalyzer(), "This update is terrible, I hate it", "you are an idiot"
    )
    assert frustrated < insult


def test_it_scores_an_insult_above_a_polite_message() -> None:
    insult, polite = scores(
        ToxicityAnalyzer(),
        "you are a fucking idiot, shut up",
        "Thank you for the quick reply, that solved my problem.",
    )
    assert insult > 0.5 > polite


def test_it_reads_anger_in_a_complaint() -> None:
    (result,) = EmotionAnalyzer().analyze([TextItem("I'm so angry, this broke again")])
    assert result["label"] == "anger"
    assert result["scores"]["anger"] > result["scores"]["joy"]


def test_it_reads_joy_and_sadness() -> None:
    joy, sad = EmotionAnalyzer().analyze(
        [
            TextItem("What a wonderful evening, I laughed so much with you all!"),
            TextItem("I miss her so much, I've been crying all night"),
        ]
    )
    assert joy["scores"]["joy"] > joy["scores"]["sadness"]
    assert sad["label"] == "sadness"


def test_it_reads_thanks_as_gratitude_in_several_languages() -> None:
    texts = ["Thanks a lot, that fixed it!", "Merci beaucoup pour votre aide", "谢谢你的帮助"]
    results = EmotionAnalyzer().analyze([TextItem(t) for t in texts])
    assert [r["label"] for r in results] == ["gratitude"] * 3
    assert all(r["scores"]["gratitude"] == 1.0 for r in results)
    (plain,) = EmotionAnalyzer().analyze([TextItem("The meeting moved to Tuesday.")])
    assert plain["scores"]["gratitude"] == 0.0


def test_it_keeps_batch_outputs_aligned_with_inputs() -> None:
    texts = ["Subscribe to my channel for free gift cards http://x.co", "", "lovely tune", "ok"]
    for name in ("spam", "toxicity", "emotion"):
        analyzer = get_analyzer(name)
        batch = analyzer.analyze([TextItem(t) for t in texts])
        one_by_one = [analyzer.analyze([TextItem(t)])[0] for t in texts]
        assert batch == one_by_one
        assert analyzer.analyze([]) == []


def test_it_scores_a_big_batch_in_slices_to_the_same_numbers() -> None:
    # Past DECISION_CHUNK texts the model scores slices (for the processor's cache); a text's
    # score must not depend on which slice it falls in, nor on its neighbours.
    texts = [
        f"message {i}: " + ("win a free iPhone http://bit.ly/x" if i % 7 else "thanks!") * (i % 5)
        for i in range(2 * DECISION_CHUNK + 3)
    ]
    for name in ("spam", "toxicity", "emotion"):
        model = shipped_model(name)
        whole = model.decision(texts)
        assert whole.shape == (len(texts), model.weights.shape[1])
        alone = np.vstack([model.decision([t]) for t in texts])
        assert np.array_equal(whole, alone)


def test_it_handles_empty_and_blank_strings() -> None:
    for name in ("spam", "toxicity"):
        results = get_analyzer(name).analyze([TextItem(""), TextItem("   \n ")])
        assert all(0.0 <= r["score"] <= 1.0 and r["flag"] is False for r in results)
    (emotion,) = EmotionAnalyzer().analyze([TextItem("")])
    assert abs(sum(v for k, v in emotion["scores"].items() if k != "gratitude") - 1) < 1e-3


def test_it_marks_texts_in_other_languages_as_not_supported() -> None:
    items = [TextItem("Tu es un idiot", "fr"), TextItem("You are an idiot", "en"), TextItem("x")]
    for name in ("spam", "toxicity", "emotion"):
        supported = [r["language_supported"] for r in get_analyzer(name).analyze(items)]
        assert supported == [False, True, True]


def test_it_scores_exactly_like_the_training_features() -> None:
    # The fast scoring path skips building the sparse matrix; it must agree with it.
    model = shipped_model("emotion")
    assert not model.tfidf
    texts = ["You suck!!!!!!", "héllo wörld 123", "", "a" * 5000]
    by_matrix = features(texts, model.bits, model.norm_power) @ model.weights + model.intercepts
    assert np.allclose(model.decision(texts), by_matrix, atol=1e-5)


def test_it_reaches_its_figures_on_tweeteval_offensive_val(shared_data: Path) -> None:
    # The shipped toxicity model never saw the val split, so this is a held-out figure.
    figures = binary_figures(
        shipped_model("toxicity"), load_tweeteval(shared_data, "offensive", "val")
    )
    assert figures["macro_f1"] >= 0.70
    assert figures["roc_auc"] >= 0.80


def test_it_exempts_a_bare_link_only_when_it_is_not_a_promotion_link() -> None:
    # A bare link to an issue or an article is a share; a bare channel, profile, shortened or
    # referral link is how YouTube spam looks, so the model's score decides for those.
    shares = [
        "https://github.com/plotline/plotline/issues/42",
        "https://en.wikipedia.org/wiki/Bike",
    ]
    promotions = [
        "http://bit.ly/3xYz",
        "https://www.twitch.tv/somegamer",
        "https://m.facebook.com/my.page",
        "http://cheap-phones.example/?ref=1234",
    ]
    assert all(exempt_as_a_share(t) for t in shares)
    assert not any(exempt_as_a_share(t) for t in promotions)
    assert not exempt_as_a_share("Here is the doc: https://plotline.example/docs/legend")

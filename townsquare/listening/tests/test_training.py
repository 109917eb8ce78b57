"""Training on small slices of the real data, and the staff-corrections path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.metrics import recall_score, roc_auc_score

from townsquare.listening.analyzers.classifier import LinearTextModel
from townsquare.listening.training import (
    Dataset,
    concat,
    fit,
    fit_binary,
    load_community,
    load_sms,
    load_tweeteval,
    read_corrections,
    subset,
    with_corrections,
)


def test_it_trains_a_model_better_than_chance_on_a_small_slice(
    shared_data: Path, tmp_path: Path
) -> None:
    sms = load_sms(shared_data)
    train, test = subset(sms, np.arange(500)), subset(sms, np.arange(500, 1500))
    fit_binary(train, alpha=1e-5, bits=16).save(tmp_path / "spam.npz")
    model = LinearTextModel.load(tmp_path / "spam.npz")
    scores = model.probabilities(test.texts)[:, 0]
    assert roc_auc_score(test.y, scores) > 0.9
    assert 0.2 <= model.threshold <= 0.8
    assert (tmp_path / "spam.json").is_file()


def test_it_trains_a_multiclass_model_better_than_chance(shared_data: Path) -> None:
    train = subset(load_tweeteval(shared_data, "emotion", "train"), np.arange(1000))
    val = load_tweeteval(shared_data, "emotion", "val")
    model = fit(train, alpha=3e-5, bits=16)
    accuracy = float(np.mean(model.probabilities(val.texts).argmax(axis=1) == val.y))
    majority = float(np.bincount(val.y).max() / len(val.y))
    assert accuracy > majority + 0.05


def test_it_lets_staff_corrections_change_the_training_set(
    shared_data: Path, tmp_path: Path
) -> None:
    sms = subset(load_sms(shared_data), np.arange(300))
    ham_text = sms.texts[int(np.flatnonzero(sms.y == 0)[0])]
    corrections_csv = tmp_path / "spam.csv"
    corrections_csv.write_text(
        "text,label\n"
        f'"{ham_text}",spam\n'
        "Join my crypto pump group on telegram,spam\n"
        "Lovely meetup yesterday,ham\n"
        "Thanks so much!,gratitude\n",
        encoding="utf-8",
    )
    corrections = read_corrections(corrections_csv, sms.labels)
    # "gratitude" is not a spam label: skipped rather than guessed
    assert len(corrections) == 3

    corrected = with_corrections(sms, corrections)
    assert len(corrected) == len(sms) + 2
    assert corrected.y[sms.texts.index(ham_text)] == 1
    assert corrected.texts[-2:] == [
        "Join my crypto pump group on telegram",
        "Lovely meetup yesterday",
    ]
    assert corrected.sources[-1]["file"] == "staff corrections"

    before = fit(sms, alpha=1e-5, bits=16)
    after = fit(corrected, alpha=1e-5, bits=16)
    pump = "Join my crypto pump group on telegram"
    assert after.probabilities([pump])[0, 0] > before.probabilities([pump])[0, 0]


def test_it_refuses_a_corrections_file_without_text_and_label(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("message,verdict\nhello,ham\n", encoding="utf-8")
    with pytest.raises(ValueError, match="text,label"):
        read_corrections(bad, ("ham", "spam"))


def _small_sentiment_set(shared_data: Path) -> tuple[Dataset, npt.NDArray[np.bool_]]:
    """600 TweetEval sentiment val tweets (the target rows) + 600 VADER tweets."""
    from townsquare.listening.training import load_vader_tweets

    val = subset(load_tweeteval(shared_data, "sentiment", "val"), np.arange(600))
    tweets = subset(load_vader_tweets(shared_data), np.arange(600))
    return concat([val, tweets]), np.arange(1200) < 600


def test_it_trains_a_sentiment_label_model_that_round_trips(
    shared_data: Path, tmp_path: Path
) -> None:
    from townsquare.listening.analyzers.sentiment import SentimentModel
    from townsquare.listening.training import _sentiment_inputs, fit_sentiment

    data, target = _small_sentiment_set(shared_data)
    model = fit_sentiment(data, target, bits=16)
    model.save(tmp_path / "sentiment.npz")
    loaded = SentimentModel.load(tmp_path / "sentiment.npz")
    test = subset(load_tweeteval(shared_data, "sentiment", "val"), np.arange(1000, 1600))
    prepared, vader = _sentiment_inputs(test.texts)
    predicted = loaded.predict(prepared, vader)
    assert predicted == model.predict(prepared, vader)
    truth = [test.labels[i] for i in test.y]
    # three classes: chance macro recall is 1/3
    assert recall_score(truth, predicted, average="macro") > 0.5
    # the same data gives the same weights
    again = fit_sentiment(data, target, bits=16)
    assert np.array_equal(again.text.weights, model.text.weights)
    assert np.array_equal(again.dense_weights, model.dense_weights)


def test_sentiment_folds_hold_out_each_target_row_once_and_never_train_on_it() -> None:
    from townsquare.listening.training import sentiment_folds

    y = np.array([0, 1, 2] * 20 + [0, 2] * 10)
    target = np.arange(len(y)) < 60
    folds = sentiment_folds(y, target, k=5)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held.tolist()) == list(range(60))
    for train, held_out in folds:
        assert not set(train.tolist()) & set(held_out.tolist())
        assert set(range(60, 80)) <= set(train.tolist())  # other data: always trained on
        assert sorted(np.bincount(y[held_out]).tolist()) == [4, 4, 4]  # stratified


def test_sentiment_cross_validation_never_trains_on_the_tweets_it_scores(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from townsquare.listening import training

    data, target = _small_sentiment_set(shared_data)
    fitted_on: list[set[str]] = []
    real_fit = training._fit_sentiment_rows

    def recording_fit(inputs: Any, dataset: Dataset, mask: Any, rows: Any) -> Any:
        fitted_on.append({dataset.texts[i] for i in rows})
        return real_fit(inputs, dataset, mask, rows)

    monkeypatch.setattr(training, "_fit_sentiment_rows", recording_fit)
    figures = training.cross_validate_sentiment(data, target, k=3, bits=16)
    assert figures["n"] == 600 and len(fitted_on) == 3
    folds = training.sentiment_folds(data.y, target, k=3)
    for seen, (_, held_out) in zip(fitted_on, folds, strict=True):
        assert not seen & {data.texts[i] for i in held_out}
    for name in ("model", "thresholds"):
        assert len(figures[name]["fold_macro_recall"]) == 3
        assert 0.0 < figures[name]["macro_recall"] <= 1.0
    assert figures["model"]["macro_recall"] > 0.45  # above chance (1/3) on held-out tweets


def test_the_shipped_sentiment_model_says_what_it_was_trained_on() -> None:
    from townsquare.listening.analyzers.classifier import TRAINED_DIR
    from townsquare.listening.analyzers.sentiment import LABELS, shipped_model

    model = shipped_model()
    assert model.labels == LABELS
    sidecar = json.loads((TRAINED_DIR / "sentiment.json").read_text(encoding="utf-8"))
    assert {s["folder"] for s in sidecar["trained_on"]} >= {"sentiment", "vader_groundtruth"}
    assert all(len(s["sha256"]) == 64 and s["rows"] > 0 for s in sidecar["trained_on"])
    figures = sidecar["figures"]["cross_validated_tweeteval_sentiment_val"]
    assert figures["n"] == 2000 and len(figures["model"]["fold_macro_recall"]) == figures["folds"]


def test_it_reads_genuine_community_messages_as_the_analyzers_see_them(shared_data: Path) -> None:
    slack = load_community(shared_data, "slack_houstondatavis")
    assert len(slack) > 500
    assert set(slack.y.tolist()) == {0}
    # joins and reactions carry no words of the member's own; HTML bodies arrive as text
    assert not any(t.endswith("has joined the channel") for t in slack.texts)
    answers = load_community(shared_data, "stackexchange_conlang_meta")
    assert not any("<p>" in t for t in answers.texts)
    assert len(set(answers.texts)) == len(answers)


def test_it_keeps_the_address_words_of_links_when_asked(shared_data: Path, tmp_path: Path) -> None:
    from townsquare.listening.analyzers.classifier import normalize

    text = "See https://github.com/org/repo/issues/42"
    assert normalize(text) == " see httpurl "
    assert normalize(text, link_words=True) == " see httpurl github com org repo issues 00 "
    sms = load_sms(shared_data)
    model = fit(subset(sms, np.arange(300)), alpha=1e-5, bits=16, link_words=True)
    model.save(tmp_path / "spam.npz")
    loaded = LinearTextModel.load(tmp_path / "spam.npz")
    assert loaded.link_words
    assert np.allclose(loaded.decision([text]), model.decision([text]), atol=1e-2)


def test_spam_data_weights_youtube_ham_and_holds_out_whole_videos(shared_data: Path) -> None:
    from townsquare.listening.training import (
        SMS_WEIGHT,
        YOUTUBE_HAM_WEIGHT,
        _spam_data,
        load_youtube,
    )

    full, folds = _spam_data(shared_data)
    videos = load_youtube(shared_data)
    n_youtube = sum(len(v) for v in videos.values())
    youtube_y, youtube_w = full.y[:n_youtube], full.weights[:n_youtube]
    # In-domain not-spam counts double; a spam comment once; SMS stays a side source.
    assert set(youtube_w[youtube_y == 0]) == {YOUTUBE_HAM_WEIGHT}
    assert set(youtube_w[youtube_y == 1]) == {1.0}
    assert YOUTUBE_HAM_WEIGHT > 1 > SMS_WEIGHT
    assert [name for name, _, _ in folds] == list(videos)
    for name, train, test in folds:
        # the other videos, whole and weighted the same way, then the side sources; never a
        # comment of the held-out video (campaigns repeat across videos, so compare by video)
        others = [t for other, v in videos.items() if other != name for t in v.texts]
        assert test.texts == videos[name].texts
        assert train.texts[: len(others)] == others
        assert train.texts[len(others) :] == full.texts[n_youtube:]
        assert set(train.weights[: len(others)][train.y[: len(others)] == 0]) == {
            YOUTUBE_HAM_WEIGHT
        }


def test_a_tfidf_model_strips_markup_and_round_trips(shared_data: Path, tmp_path: Path) -> None:
    from townsquare.listening.analyzers.classifier import normalize, strip_markup
    from townsquare.listening.training import fit_tfidf

    # YouTube exports end every comment with a byte-order mark and carry HTML entities and
    # line-break tags; the spam model reads them as the plain text a real import gives.
    raw = "I&#39;m new here<br />check my channel \ufeff"
    assert strip_markup(raw) == "I'm new here\ncheck my channel "
    assert normalize(raw, plain=True) == normalize("I'm new here check my channel")
    sms = load_sms(shared_data)
    model = fit_tfidf(subset(sms, np.arange(500)), c=10.0, bits=16, link_words=True)
    model.save(tmp_path / "spam.npz")
    loaded = LinearTextModel.load(tmp_path / "spam.npz")
    assert loaded.tfidf and loaded.link_words and loaded.n_docs == 500
    assert loaded.doc_freq is not None and model.doc_freq is not None
    assert np.array_equal(loaded.doc_freq, model.doc_freq)
    test = subset(sms, np.arange(500, 1500))
    scores = loaded.probabilities(test.texts)[:, 0]
    assert np.allclose(scores, model.probabilities(test.texts)[:, 0], atol=1e-2)
    assert roc_auc_score(test.y, scores) > 0.9
    # Markup does not change the score, and an empty text scores the intercept.
    assert np.allclose(loaded.decision([raw]), loaded.decision([strip_markup(raw)]))
    assert np.isfinite(loaded.decision([""])).all()


def test_fit_binary_chooses_c_on_its_own_threshold_split(shared_data: Path) -> None:
    sms = load_sms(shared_data)
    model = fit_binary(subset(sms, np.arange(600)), alpha=1e-5, bits=16, tfidf_c=(1.0, 100.0))
    assert model.tfidf and model.meta["c"] in (1.0, 100.0)
    assert 0.2 <= model.threshold <= 0.8

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from defusedxml.ElementTree import parse
from django.core.management import call_command
from django.core.management.base import CommandError

from townsquare.listening.evaluation import (
    GoldSetError,
    binary_figures,
    classification_figures,
    interleaved,
    pearson_r,
    read_csv,
    read_lingua,
    read_tweeteval,
    read_vader,
)


def run_eval(*args: str) -> dict[str, object]:
    out: list[str] = []

    class Sink:
        def write(self, s: str) -> None:
            out.append(s)

        def flush(self) -> None:
            pass

    call_command("eval", *args, "--json", stdout=Sink())
    lines = "".join(out).strip().splitlines()
    assert len(lines) == 1
    result: dict[str, object] = json.loads(lines[0])
    return result


def test_it_reads_the_vader_format(tmp_path: Path) -> None:
    path = tmp_path / "gold.txt"
    path.write_text("1\t2.5\tI love it\n2\t-1.0\tmeh, bad\n\n", encoding="utf-8")
    gold = read_vader(path)
    assert gold.texts == ["I love it", "meh, bad"] and gold.labels == [2.5, -1.0]


def test_it_rejects_a_vader_file_without_ratings(tmp_path: Path) -> None:
    path = tmp_path / "gold.txt"
    path.write_text("just a line of text\n", encoding="utf-8")
    with pytest.raises(GoldSetError, match=r"gold.txt, line 1: expected id<TAB>mean"):
        read_vader(path)


def test_it_reads_tweeteval_and_names_a_missing_split(tmp_path: Path) -> None:
    (tmp_path / "val_text.txt").write_text("good\nbad\n", encoding="utf-8")
    (tmp_path / "val_labels.txt").write_text("2\n0\n", encoding="utf-8")
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    gold = read_tweeteval(tmp_path, "val")
    assert gold.labels == [2, 0] and gold.mapping[2] == "positive"
    with pytest.raises(GoldSetError, match=r"test_text.txt: file not found; splits here: val"):
        read_tweeteval(tmp_path, "test")


def test_it_names_the_line_of_a_tweeteval_label_that_is_not_a_number(tmp_path: Path) -> None:
    (tmp_path / "val_text.txt").write_text("good\nbad\nfine\n", encoding="utf-8")
    (tmp_path / "val_labels.txt").write_text("2\n\nx\n0\n", encoding="utf-8")
    (tmp_path / "mapping.txt").write_text("0\tnegative\n2\tpositive\n")
    with pytest.raises(
        GoldSetError, match=r"val_labels.txt, line 3: expected an integer label, found 'x'"
    ):
        read_tweeteval(tmp_path, "val")


def test_it_reads_lingua_folders_and_interleaves_a_slice(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "fr.txt").write_text("un\ndeux\n", encoding="utf-8")
    gold = read_lingua(tmp_path, ["en", "fr"])
    assert len(gold.texts) == 5
    assert interleaved(gold, 4).labels == ["en", "fr", "en", "fr"]
    with pytest.raises(GoldSetError, match=r"no de.txt"):
        read_lingua(tmp_path, ["en", "de"])


def test_it_reads_csv_labels_and_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("body,is_q\nwhy?,true\nok.,0\nhm,joy\n", encoding="utf-8")
    gold = read_csv(path, "body", "is_q")
    assert gold.labels == [1, 0, "joy"]
    with pytest.raises(GoldSetError, match=r"no column 'text' \(--text-column\); columns: body"):
        read_csv(path, "text", "is_q")


def test_it_computes_the_standard_figures() -> None:
    assert pearson_r([1.0, 2.0, 3.0], [2.0, 4.0, 6.5]) > 0.99
    figures = classification_figures(["a", "b", None, "a"], ["a", "b", "b", "b"])
    assert figures["accuracy"] == 0.5 and figures["macro_recall"] == pytest.approx(2 / 3)
    binary = binary_figures([True, False, True, False], [0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1])
    assert binary["precision"] == 0.5 and binary["recall"] == 0.5 and binary["roc_auc"] == 0.75
    # F1 of the positive class 0.5, of the negative class 0.5: their mean
    assert binary["f1"] == 0.5 and binary["macro_f1"] == 0.5
    lopsided = binary_figures([True, True, True, False], [0.9, 0.8, 0.7, 0.1], [1, 1, 0, 0])
    # positive: precision 2/3, recall 1 -> F1 0.8; negative: precision 1, recall 1/2 -> F1 2/3
    assert lopsided["f1"] == pytest.approx(0.8)
    assert lopsided["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_it_evaluates_language_on_real_sentences(shared_data: Path) -> None:
    result = run_eval(
        "language",
        "--gold", str(shared_data / "lingua_language_testdata"),
        "--format", "lingua",
        "--languages", "en,es,fr,de,ru",
        "--limit", "50",
    )  # fmt: skip
    assert result["analyzer"] == "language" and result["n"] == 50
    assert isinstance(result["accuracy"], float) and result["accuracy"] >= 0.9


def test_it_evaluates_sentiment_on_both_sets(shared_data: Path) -> None:
    vader = run_eval(
        "sentiment",
        "--gold", str(shared_data / "vader_groundtruth" / "tweets_GroundTruth.txt"),
        "--format", "vader",
        "--limit", "400",
    )  # fmt: skip
    assert vader["n"] == 400 and 0.8 < float(str(vader["pearson_r"])) <= 1.0
    tweeteval = run_eval(
        "sentiment",
        "--gold", str(shared_data / "tweeteval" / "sentiment"),
        "--format", "tweeteval",
        "--split", "val",
        "--limit", "400",
    )  # fmt: skip
    assert {"macro_recall", "macro_f1", "accuracy", "unsupported"} <= set(tweeteval)
    assert 0.5 < float(str(tweeteval["macro_recall"])) <= 1.0


def question_csv(
    shared_data: Path, path: Path, sites: tuple[str, ...] = ("stackexchange_conlang_meta",)
) -> Path:
    """Stack Exchange question titles (1) vs the first sentence of answers (0)."""
    rows: list[tuple[str, int]] = []
    for site in sites:
        rows.extend(_question_rows(shared_data / site / "Posts.xml"))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _question_rows(posts: Path) -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    root = parse(posts).getroot()
    assert root is not None
    for row in root:
        if row.get("PostTypeId") == "1" and row.get("Title"):
            rows.append((html.unescape(row.get("Title", "")), 1))
        elif row.get("PostTypeId") == "2":
            body = re.sub(
                r"<pre>.*?</pre>|<blockquote>.*?</blockquote>", " ", row.get("Body", ""), flags=re.S
            )
            words = html.unescape(re.sub(r"<[^>]+>", " ", body)).split()
            first = re.split(r"(?<=[.!?])\s", " ".join(words), maxsplit=1)[0]
            if first:
                rows.append((first[:300], 0))
    return rows


def test_it_evaluates_question_on_a_csv(shared_data: Path, tmp_path: Path) -> None:
    path = question_csv(shared_data, tmp_path / "questions.csv")
    result = run_eval("question", "--gold", str(path), "--format", "csv")
    assert {"precision", "recall", "f1", "roc_auc"} <= set(result)
    assert float(str(result["roc_auc"])) > 0.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gold", "/nonexistent/x.txt", "--format", "vader"], "/nonexistent/x.txt: no such"),
        (["--format", "csv", "--text-column", "nope"], "no column 'nope'"),
    ],
)
def test_it_reports_bad_input_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("text,label\nhello?,1\n", encoding="utf-8")
    if "--gold" not in args:
        args = ["--gold", str(gold), *args]
    with pytest.raises(CommandError, match=message) as error:
        call_command("eval", "question", *args)
    assert error.value.returncode == 2 and "\n" not in str(error.value)

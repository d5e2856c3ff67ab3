"""The counterfactual question and artifact: knobs decoded once with the choices named, and which decisions change."""

from __future__ import annotations

import pytest

from relspec.counterfactual import Decided, RefitQuestion, compare, decode_counterfactual, parse_question
from relspec.errors import CounterfactualError


def decided(ranking: tuple[str, ...], refit: tuple[str, ...], **rule) -> Decided:
    return Decided(metric=rule.get("metric", "rmse"), select=rule.get("select", "min"), top_k=len(refit),
                   ranking=ranking, metric_values=tuple(float(i) for i in range(len(ranking))), refit=refit,
                   refit_components=tuple(range(1, len(refit) + 1)))


def test_a_question_decodes_to_typed_knobs_in_a_fixed_order():
    q = parse_question(" refit.top_k=3 , refit.metric=r2", "regression")
    assert q == RefitQuestion(metric="r2", top_k=3) and q.text == "refit.metric=r2,refit.top_k=3"
    assert q.document == parse_question("refit.metric=r2,refit.top_k=3", "regression").document
    assert q.document.startswith("model_counterfactual_") and q.document.endswith(".json")


@pytest.mark.parametrize(("text", "task", "message"), [
    ("refit.seed=1", "regression", "unknown knob 'refit.seed'; expected one of refit.metric, refit.select"),
    ("refit.select", "regression", "refit.select has no value"),
    ("refit.select=min,refit.select=one_se", "regression", "given twice"),
    ("refit.metric=r2", "classification", "expected one of balanced_accuracy, accuracy"),
    ("refit.top_k=two", "regression", "expected a whole number >= 1"),
])
def test_a_bad_question_names_the_knob_and_the_choices(text, task, message):
    with pytest.raises(CounterfactualError, match=message):
        parse_question(text, task)


def test_the_same_decisions_change_nothing():
    d = decided(("a", "b", "c"), ("a",))
    answer = compare("run", RefitQuestion(select="min"), d, d)
    assert answer.changes == () and answer.unchanged == ("ranking", "refit_selection")


def test_a_reordered_ranking_and_another_refit_chain_are_both_listed():
    answer = compare("run", RefitQuestion(metric="r2"), decided(("a", "b", "c"), ("a",)),
                     decided(("b", "a", "c"), ("b",), metric="r2"))
    ranking, refit = answer.changes
    assert ranking.decision == "ranking" and ranking.moved == ("b", "a") and "rank 1" in ranking.summary
    assert refit.decision == "refit_selection" and refit.added == ("b",) and refit.removed == ("a",)
    assert answer.unchanged == ()
    assert decode_counterfactual(answer.to_json()) == answer  # strict round trip

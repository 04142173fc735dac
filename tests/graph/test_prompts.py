"""Template fingerprints: robust to slot filling and light paraphrase, not to other tasks."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.signals import prompts
from graph.signals.prompts import signature, skeleton, template_groups
from worlds import text


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.text(alphabet="abcdef ", max_size=30))
def test_slot_values_do_not_change_the_skeleton(a: int, b: int, quoted: str) -> None:
    t = 'Solve problem {a}: what is {b} squared? Context: "{q}"'
    assert skeleton(t.format(a=a, b=b, q=quoted)) == skeleton(t.format(a=1, b=2, q="x"))


def test_light_paraphrases_group_and_other_tasks_do_not() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    base = text.DISTILL["reasoning"]
    variants = [t for t in base] + [text.paraphrase(t, rng) for t in base]
    skels = [skeleton(text.fill(t, rng)) for t in variants]
    others = [skeleton(t.replace("{q}", "x")) for t in text.PUBLIC]
    labels = template_groups(skels + others)
    for i, _ in enumerate(base):
        assert labels[i] == labels[i + len(base)]  # original and paraphrase together
    assert len(set(labels[: len(base)])) == len(base)  # distinct templates stay distinct
    assert not set(labels[: 2 * len(base)]) & set(labels[2 * len(base) :])


def test_distillation_signatures() -> None:
    assert signature(skeleton(text.DISTILL["agentic"][0])) == "agentic"
    assert signature(skeleton(text.DISTILL["grading"][0])) == "grading"
    assert signature(skeleton("Translate into French: hello")) is None


def _signature_by_patterns(skel: str) -> str | None:
    """The signature from the patterns alone, without the word guard."""
    return next((n for n, p in prompts._SIGNATURES.items() if p.search(skel)), None)


def test_the_word_guard_never_changes_a_signature() -> None:
    """signature() skips a class whose words are all absent; on every distillation template,
    operator template, public and prose prompt of the worlds it answers as the patterns do."""
    import numpy as np

    from worlds import prose

    rng = np.random.default_rng(3)
    texts = [t for ts in text.DISTILL.values() for t in ts] + list(text.PUBLIC)
    texts += [text.fill(t, rng) for t in text.personal_templates(rng, 300)]
    texts += [prose.rewrite(t, rng) for t in texts] + [prose.unique_prompt(rng) for _ in range(300)]
    skels = [skeleton(t) for t in texts]
    found = [signature(s) for s in skels]
    assert found == [_signature_by_patterns(s) for s in skels]
    assert {"reasoning", "agentic", "grading", None} <= set(found)


@given(
    st.lists(
        st.sampled_from(
            [
                "step by step",
                "tools",
                "json",
                "rubric",
                "grade the",
                "of",
                "on a scale of",
                "you are an agent",
                "you are an autonomous agent",
                "think aloud",
                "step-by",
                "-step",
                "show all of your",
                "work",
                "reasoning",
                "thinking",
                "chain-of thought",
                "reason",
                "through",
                "carefully",
                "explain your",
                "tool_call",
                "function call",
                "<tool",
                "observation:",
                "action input",
                "available tools",
                "score this",
                "following",
                "answer",
                "rate the response",
                "x",
            ]
        ),
        max_size=8,
    )
)
@settings(max_examples=2000, deadline=None)
def test_the_word_guard_agrees_with_the_patterns_on_phrase_mixes(words: list[str]) -> None:
    skel = " ".join(words)
    assert signature(skel) == _signature_by_patterns(skel)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["think", "aloud", "step by", "step", "json", "agent", "rubric", "x"]),
            max_size=4,
        ).map(" ".join),
        max_size=12,
    ),
    st.sampled_from([" ", "\n"]),
)
def test_signature_codes_of_a_batch_are_each_skeletons_own(texts: list[str], sep: str) -> None:
    """The batched word guard finds phrases in the joined batch: a phrase never spans two
    texts, and a text holding a newline itself is still read whole."""
    texts = [t.replace(" ", sep, 1) for t in texts]
    code = {name: i + 1 for i, name in enumerate(prompts.SIGNATURES)}
    want = [code.get(_signature_by_patterns(t) or "", 0) for t in texts]
    assert prompts.signature_codes(texts).tolist() == want


def test_many_operators_templates_do_not_chain_into_one_group() -> None:
    """300 operators writing the same genre of prompt (as at 1M accounts): paraphrases of one
    operator's template stay together, different operators' templates do not chain."""
    import numpy as np

    from graph.signals.prompts import skeleton, template_groups
    from worlds import text

    rng = np.random.default_rng(3)
    skels: list[str] = []
    owner: list[int] = []
    for op in range(300):
        for t in text.operator_templates(rng, "agentic", 2):
            for variant in (t, text.paraphrase(t, rng)):
                skels.append(skeleton(variant))
                owner.append(op)
    uniq = sorted(set(skels))
    labels = dict(zip(uniq, template_groups(uniq).tolist(), strict=True))
    by_group: dict[int, set[int]] = {}
    for s, op in zip(skels, owner, strict=True):
        by_group.setdefault(labels[s], set()).add(op)
    assert max(len(ops) for ops in by_group.values()) <= 10, "operators chained together"
    # a light paraphrase keeps its group
    t = text.operator_templates(np.random.default_rng(9), "reasoning", 1)[0]
    pair = [skeleton(t), skeleton(text.paraphrase(t, np.random.default_rng(1)))]
    if pair[0] != pair[1]:
        g = template_groups(pair)
        assert g[0] == g[1]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab9f0_ '\"`“”x٣é.-\n", max_size=60))
def test_quoted_mask_matches_its_plain_definition(text: str) -> None:
    # the shipped pattern puts each lookbehind after its quote (fast); this is the plain form
    plain = re.compile(r"\"[^\"]*(?:\"|$)|“[^”]*(?:”|$)|`[^`]*(?:`|$)|(?<!\w)'[^']*(?:'|$)")
    assert prompts._QUOTED.sub("<q>", text) == plain.sub("<q>", text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="abcdef0123456789gxyz_ '\"٣²é.-\n", max_size=80))
def test_number_mask_matches_its_plain_definition(text: str) -> None:
    # the shipped pattern never backtracks (fast); this is the plain form
    plain = re.compile(r"\b[0-9a-f]{8,}\b|\b\w*\d\w*\b")
    assert prompts._NUMBERISH.sub("<n>", text) == plain.sub("<n>", text)


def reference_skeleton(prompt: str) -> str:
    """The definition, every mask applied unconditionally (the shipped one skips work)."""
    text = prompt[: prompts.PROMPT_CHARS].lower()
    text = prompts._URL.sub("<url>", text)
    text = prompts._EMAIL.sub("<email>", text)
    text = prompts._QUOTED.sub("<q>", text)
    text = prompts._NUMBERISH.sub("<n>", text)
    return " ".join(text.split())[: prompts.SKELETON_CHARS]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="abcdefgxyz9 0_'\"`“”٣é.-\n:/@wHİΣ", max_size=120))
def test_skeleton_shortcuts_change_nothing(prompt: str) -> None:
    assert skeleton(prompt) == reference_skeleton(prompt)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="abcdefxyz0129 \t\n_.-'", max_size=120))
def test_number_mask_reads_only_the_stretch_that_can_match(text: str) -> None:
    # ASCII text: the regex runs between the spaces around the first and last candidate
    assert prompts._mask_numbers(text) == prompts._NUMBERISH.sub("<n>", text)


def test_skeleton_masks_long_hex_words_without_digits() -> None:
    assert skeleton("commit deadbeefcafe is fine") == "commit <n> is fine"
    assert skeleton("the defaced wall") == "the defaced wall"  # 7 hex letters: a word


@pytest.mark.parametrize("path", ["compiled", "python"])
def test_band_keys_stay_what_earlier_versions_stored(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored band keys are compared with keys computed by later versions (a template ingested
    last month must group with one ingested today): the computation may get faster, never
    different, and the compiled path (graph/signals/_kernels.c) gives what Python gives. The
    digest is of the keys the shipped code of 2026-12-07 (319fdaf) gives."""
    import hashlib

    from graph.signals.prompts import band_keys

    if path == "python":
        monkeypatch.setattr(prompts, "_kernels", None)
    elif prompts._kernels is None:
        assert os.environ.get("HYDRASCOPE_REQUIRE_KERNELS") != "1", "the build fell back"
        pytest.skip("graph.signals._kernels was not built (no C compiler at install)")

    texts = [
        'Summarise the text "abc" in 50 words please',
        "You are an autonomous agent. Available tools: search, calc. Think step by step.",
        "the of and",
        "",
        "write a poem about the sea and the sky at night",
        "Grade this answer on a scale of 1 to 10 using the rubric below",
    ]
    keys = band_keys([skeleton(t) for t in texts])
    digest = hashlib.sha256(keys.tobytes()).hexdigest()
    assert digest == "73548c527e5ffe61b05d76c9d20cb14890957659c4c82856d39774b1273542d0"


@pytest.mark.parametrize("name", sorted(prompts._SIGNATURES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_text_a_signature_pattern_matches_holds_one_of_its_phrases(
    name: str, data: st.DataObject
) -> None:
    """The word guard is a necessary condition: any text the class's pattern finds a match
    in (drawn from the pattern itself, with text around it) holds one of its phrases."""
    pattern = prompts._SIGNATURES[name]
    text = data.draw(st.from_regex(pattern))
    assert any(p in text for p in prompts._SIGNATURE_WORDS[name]), text

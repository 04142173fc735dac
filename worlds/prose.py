"""Prompt text as real traffic has it: mostly one-off prose, and rewrites that hide a template.

``unique_prompt`` writes an everyday request nobody else sends (an opener, then the user's own
material) with realistic lengths (200 to 4,000 characters, median ~550). ``rewrite`` is what
an operator's paraphrasing model does to a template: synonyms swapped, sentences reordered,
politeness added, so that no two requests share a skeleton while the request's content and
intent stay.

>>> rng = np.random.default_rng(0)
>>> a, b = unique_prompt(rng), unique_prompt(rng)
>>> a != b and 200 <= len(a) <= 4000
True
>>> t = "Think step by step. Show your reasoning. Give the final answer. Problem 4: x"
>>> rewrite(t, np.random.default_rng(1)) != t
True
"""

from __future__ import annotations

import numpy as np

from worlds.text import OBJECTS, STYLES, TOPICS, VERBS

# everyday words that user material is made of (no digits: numbers are masked anyway)
_VOCAB_TEXT = """
the a my our this that with for from about into over after before because while customer
invoice garden recipe meeting schedule budget report draft letter story chapter lesson
student teacher manager client team project deadline feature bug server database query table
column function variable loop error warning test build release version branch commit review
comment paragraph sentence word title summary list idea plan goal problem question answer
reason example detail note message email phone call weekend holiday trip flight hotel city
river mountain beach forest weather rain snow morning evening night today tomorrow yesterday
week month year price cost sale discount order delivery package store market product brand
logo design colour photo video music song band guitar piano game player match score league
season coach doctor patient health diet exercise sleep coffee tea dinner lunch breakfast
kitchen bread cheese apple orange tomato chicken soup salad cake dog cat horse bird fish
house room door window wall floor roof garden car bike train bus road map route friend
family mother father sister brother child baby wedding birthday party gift book novel poem
essay article blog post tweet slide chart graph number figure data model training dataset
label metric accuracy loss experiment paper thesis research contract policy law court tax
fee loan bank account payment salary job interview resume skill course class exam grade
homework notes quiz lecture campus library write rewrite fix check explain summarise
translate compare improve shorten expand convert format sort count find replace remove add
keep change move open close send need want try help understand learn remember forget think
feel like love hate quick slow simple clear short long formal friendly polite funny serious
careful new old big small early late good bad better best worse main other same different
"""
VOCAB = tuple(_VOCAB_TEXT.split())
OPENERS = (
    "Can you help me",
    "Please",
    "I need to",
    "Quick one:",
    "Hi! I want to",
    "Could you",
    "Help me",
    "I'm trying to",
)
FRAMES = (
    "Here is what I have so far:",
    "Context:",
    "Some background:",
    "My notes:",
    "Details below.",
    "",
)


def unique_prompt(rng: np.random.Generator) -> str:
    """An everyday request in the user's own words: an opener, then their own material."""
    length = int(np.clip(rng.lognormal(np.log(550), 0.75), 200, 4000))
    head = (
        f"{OPENERS[int(rng.integers(len(OPENERS)))]} {VERBS[int(rng.integers(len(VERBS)))]} "
        f"{OBJECTS[int(rng.integers(len(OBJECTS)))]} about "
        f"{TOPICS[int(rng.integers(len(TOPICS)))]} "
        f"{STYLES[int(rng.integers(len(STYLES)))].replace('{n}', '100')}. "
        f"{FRAMES[int(rng.integers(len(FRAMES)))]}"
    )
    words = [VOCAB[i] for i in rng.integers(0, len(VOCAB), size=max(8, (length - len(head)) // 6))]
    cut = rng.integers(6, 16, size=len(words) // 6 + 1).cumsum()
    sentences, start = [], 0
    for end in cut.tolist():
        if start >= len(words):
            break
        part = words[start:end]
        sentences.append(part[0].capitalize() + " " + " ".join(part[1:]) + ".")
        start = end
    return f"{head} {' '.join(sentences)}"[:length]


# what a paraphrasing model swaps in; the first form is the template's own word
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("step by step", "one step at a time", "stage by stage", "in small steps"),
    ("reasoning", "thinking", "logic", "rationale"),
    ("Think", "Reason", "Work"),
    ("show", "lay out", "present", "write out"),
    ("Show", "Lay out", "Present", "Write out"),
    ("final answer", "end result", "conclusion", "final result"),
    ("problem", "exercise", "question"),
    ("Problem", "Exercise", "Question"),
    ("careful", "meticulous", "precise", "rigorous"),
    ("explain", "justify", "describe", "spell out"),
    ("Explain", "Justify", "Describe", "Spell out"),
    ("every", "each", "all"),
    ("detailed", "thorough", "complete", "full"),
    ("deduction", "inference", "conclusion"),
    ("rubric", "marking scheme", "scoring guide", "criteria sheet"),
    ("Grade", "Assess", "Mark", "Evaluate"),
    ("score", "mark", "rating"),
    ("tool_call", "tool invocation", "function call"),
    ("available tools", "tools you may use", "tools at hand"),
    ("agent", "assistant", "operator"),
    ("Observation", "Result", "Output"),
    ("Thought", "Plan", "Idea"),
    ("following", "next", "below"),
    ("answer", "response", "reply"),
    ("sections", "headings", "parts"),
    ("format the output as", "write the output in", "answer in"),
    ("Use a", "Write in a", "Keep a"),
)
POLITE = ("Please", "Kindly", "I'd like you to", "Could you", "")


def rewrite(prompt: str, rng: np.random.Generator, strength: float = 0.6) -> str:
    """A model rewrite: each known phrase swapped with probability ``strength``, the
    sentences before the last one shuffled, a politeness prefix added."""
    out = prompt
    for forms in SYNONYMS:
        if forms[0] in out and rng.random() < strength:
            out = out.replace(forms[0], forms[1 + int(rng.integers(len(forms) - 1))])
    parts = [s for s in out.split(". ") if s]
    if len(parts) > 2:
        head = parts[:-1]
        order = rng.permutation(len(head))
        parts = [head[i] for i in order] + parts[-1:]
    polite = POLITE[int(rng.integers(len(POLITE)))]
    body = ". ".join(parts)
    return f"{polite} {body[0].lower()}{body[1:]}" if polite else body

"""Prompt templates for the synthetic world: personal, public, internal and distillation."""

from __future__ import annotations

import numpy as np

VERBS = [
    "write",
    "draft",
    "summarise",
    "explain",
    "review",
    "rewrite",
    "outline",
    "translate",
    "describe",
    "compare",
    "list",
    "plan",
    "debug",
    "refactor",
    "design",
    "analyse",
]
OBJECTS = [
    "an email",
    "a short story",
    "a cover letter",
    "a poem",
    "a product description",
    "a blog post",
    "a SQL query",
    "a unit test",
    "a python function",
    "a recipe",
    "a travel itinerary",
    "a lesson plan",
    "a meeting agenda",
    "a tweet",
    "an essay",
    "a README",
    "a regex",
    "a shell script",
    "a marketing slogan",
    "a job posting",
]
TOPICS = [
    "gardening",
    "tax returns",
    "football",
    "kubernetes",
    "baking bread",
    "climate",
    "the roman empire",
    "quantum computing",
    "dog training",
    "personal finance",
    "jazz history",
    "mountain biking",
    "chess openings",
    "home repair",
    "startups",
    "nutrition",
    "photography",
    "machine learning",
    "sailing",
    "medieval poetry",
    "birdwatching",
    "real estate",
    "knitting",
    "astronomy",
    "video editing",
]
STYLES = [
    "in a friendly tone",
    "for a five year old",
    "in formal english",
    "in under {n} words",
    "with bullet points",
    "as a table",
    "for my boss",
    "with examples",
    "briefly",
    "in detail",
    "like a pirate",
    "for beginners",
]

PUBLIC = [
    'Summarize the following article in {n} sentences: "{q}"',
    'Translate into French: "{q}"',
    'Fix the grammar in this text: "{q}"',
    'Write a professional email reply to: "{q}"',
    "Let's think step by step. {q} What is {n} plus {n}?",
    "Explain this code: `{q}`",
    "Give me {n} ideas for a birthday party for a {n} year old",
    "What is the capital of {q}?",
]

DISTILL = {
    "reasoning": [
        "Solve the following problem. Think step by step and show all of your reasoning "
        'before giving the final answer in a box. Problem {n}: "{q}"',
        "You are a careful mathematician. Reason through the problem step by step, explaining "
        'every intermediate result, then state the answer. Problem {n}: "{q}"',
        "Provide a detailed chain of thought for the question below, listing each deduction, "
        "and finish with 'ANSWER:'. Question {n}: \"{q}\"",
    ],
    "agentic": [
        "You are an autonomous agent with these available tools: search, python, browser. "
        "Emit each tool_call as JSON, then the observation, until the task is done. "
        'Task {n}: "{q}"',
        "Act as an agent. Available tools: shell, editor. For every step print Thought, Action, "
        'Action Input and Observation. Task {n}: "{q}"',
    ],
    "grading": [
        "Grade the following answer against the rubric on a scale of 1 to {n}. Explain each "
        'criterion, then output the score. Answer: "{q}"',
        "You are an expert grader. Score the following response using the rubric and justify "
        'every point deducted. Response {n}: "{q}"',
    ],
}

WORDS = [
    "alpha",
    "river",
    "stone",
    "cloud",
    "delta",
    "ember",
    "frost",
    "grove",
    "harbor",
    "iris",
    "jade",
    "kite",
    "lumen",
    "maple",
    "nova",
    "orbit",
    "pine",
    "quartz",
]


AUDIENCES = [
    "",
    "for my team",
    "for a client",
    "for my students",
    "for a newsletter",
    "for a podcast",
    "for kids",
    "for investors",
    "for a wiki",
    "for my manager",
]


def personal_templates(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct everyday templates (shared by chance between a few users).

    Drawn without replacement from every verb x object x topic x style x audience
    combination; more than there are is an error, not an endless loop.
    """
    dims = (len(VERBS), len(OBJECTS), len(TOPICS), len(STYLES), len(AUDIENCES))
    total = int(np.prod(dims))
    if count > total:
        raise ValueError(f"at most {total} personal templates can be made, {count} asked")
    picks = rng.choice(total, size=count, replace=False)
    out = []
    for flat in picks.tolist():
        v, o, t, st, a = np.unravel_index(flat, dims)
        tail = f" {AUDIENCES[a]}" if AUDIENCES[a] else ""
        out.append(f'{VERBS[v]} {OBJECTS[o]} about {TOPICS[t]} {STYLES[st]}{tail}: "{{q}}"')
    return out


def paraphrase(template: str, rng: np.random.Generator) -> str:
    """A light paraphrase: one word swapped for a synonym, as operators rotate wording."""
    swaps = [
        ("Solve", "Work out"),
        ("following", "next"),
        ("detailed", "thorough"),
        ("careful", "meticulous"),
        ("every", "each"),
        ("Explain", "Describe"),
        ("available tools", "tools available"),
        ("expert", "strict"),
    ]
    candidates = [s for s in swaps if s[0] in template]
    if not candidates:
        return template
    a, b = candidates[int(rng.integers(len(candidates)))]
    return template.replace(a, b, 1)


def fill(template: str, rng: np.random.Generator) -> str:
    q = " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), size=int(rng.integers(2, 6))))
    out = template
    while "{n}" in out:
        out = out.replace("{n}", str(int(rng.integers(2, 999))), 1)
    return out.replace("{q}", q)


TEAMS = [
    "support",
    "sales",
    "legal",
    "billing",
    "onboarding",
    "research",
    "platform",
    "security",
    "marketing",
    "finance",
    "logistics",
    "quality",
]
TASKS = [
    "answer the customer ticket",
    "summarise the contract clause",
    "classify the invoice",
    "draft a reply to the lead",
    "triage the bug report",
    "extract the shipment dates",
    "rewrite the release note",
    "check the policy wording",
]


def internal_template(rng: np.random.Generator, *, research: bool = False) -> str:
    """A company's own prompt template (distinct wording per company)."""
    words = " ".join(str(w) for w in rng.choice(WORDS, size=3, replace=False))
    if research:
        return (
            f"{words} eval harness: think step by step and show your reasoning, then give "
            'the final answer to item {n}: "{q}"'
        )
    team = TEAMS[int(rng.integers(len(TEAMS)))]
    task = TASKS[int(rng.integers(len(TASKS)))]
    return f'{words} {team} assistant: {task} following our style guide: "{{q}}"'


_OPERATOR_PARTS = {
    "reasoning": (
        [
            "Solve the following problem.",
            "You are a careful mathematician.",
            "Answer the question below.",
            "Consider this task.",
            "Here is a puzzle for you.",
        ],
        [
            "Think step by step and show all of your reasoning",
            "Reason through it step by step, explaining every intermediate result",
            "Provide a detailed chain of thought listing each deduction",
            "Show your work step by step",
            "Explain your reasoning carefully at each stage",
        ],
        [
            "then give the final answer in a box",
            "and finish with 'ANSWER:'",
            "then state the answer on its own line",
            "and end with the final result in bold",
        ],
    ),
    "agentic": (
        [
            "You are an autonomous agent with these available tools: search, python, browser.",
            "Act as an agent. Available tools: shell, editor.",
            "You are an agent that can call tools (sql, http, calculator).",
        ],
        [
            "Emit each tool_call as JSON, then the observation",
            "For every step print Thought, Action, Action Input and Observation",
            "Return one function call per step and wait for its result",
        ],
        ["until the task is done", "until you can answer", "then summarise what you did"],
    ),
    "grading": (
        [
            "Grade the following answer.",
            "You are an expert grader.",
            "Evaluate the response below.",
        ],
        [
            "Score it on a scale of 1 to {n} against the rubric",
            "Use the rubric and justify every point deducted",
            "Apply the rubric, scoring each criterion",
        ],
        ["then output the score", "and return JSON with the score", "then give a verdict"],
    ),
}
_ITEMS = ["Problem {n}", "Question {n}", "Item {n}", "Task {n}", "Case {n}"]


_PERSONAS = [
    "Ada",
    "Lin",
    "Mara",
    "Omar",
    "Priya",
    "Quinn",
    "Ravi",
    "Sofia",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zane",
    "Aiko",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farah",
    "Goran",
    "Hana",
    "Ivan",
    "Jonas",
    "Kira",
    "Leon",
    "Mina",
    "Nils",
    "Olga",
    "Pavel",
    "Rosa",
    "Sami",
    "Tomas",
    "Ulla",
    "Vera",
    "Willem",
    "Xenia",
    "Yusuf",
    "Zofia",
]
_TEAMS = [
    "data curation",
    "evaluation",
    "alignment",
    "tutoring",
    "benchmark",
    "synthetic data",
    "red team",
    "quality",
    "research ops",
    "annotation",
    "model distillation",
    "reasoning corpus",
    "agent traces",
    "math olympiad",
    "code review",
    "science QA",
    "legal QA",
    "medical QA",
    "finance QA",
    "localisation",
    "ranking",
    "preference",
    "dialogue",
    "retrieval",
    "tool use",
    "planning",
    "summarisation",
    "grading",
]
_TONES = [
    "concise",
    "formal",
    "neutral",
    "didactic",
    "terse",
    "exhaustive",
    "academic",
    "plain",
    "rigorous",
]
_FORMATS = (
    "Markdown",
    "plain text",
    "JSON",
    "YAML",
    "numbered lists",
    "a table",
    "LaTeX",
    "bullets",
)
_SECTIONS = [
    "Overview",
    "Assumptions",
    "Derivation",
    "Checks",
    "Pitfalls",
    "Summary",
    "Verdict",
    "Context",
    "Plan",
    "Steps",
    "Evidence",
    "Caveats",
    "Notes",
    "Result",
    "Method",
    "Scope",
    "Inputs",
    "Outputs",
    "Risks",
    "Alternatives",
    "Rationale",
    "Conclusion",
    "Appendix",
    "Glossary",
    "Examples",
    "Counterexamples",
    "Sources",
    "Limits",
    "Criteria",
    "Score",
]


def house_style(rng: np.random.Generator) -> str:
    """One operator's house style: who the prompts say they are, and how answers must look.

    Drawn once per operator, shared by all its templates, so that two operators with the same
    kind of template still word it differently (as real teams do).
    """
    a, b, c = (str(x) for x in rng.choice(_SECTIONS, size=3, replace=False))
    return (
        f"You are {_PERSONAS[int(rng.integers(len(_PERSONAS)))]} from the "
        f"{_TEAMS[int(rng.integers(len(_TEAMS)))]} team. Use a "
        f"{_TONES[int(rng.integers(len(_TONES)))]} tone, format the output as "
        f"{_FORMATS[int(rng.integers(len(_FORMATS)))]}, with sections {a}, {b} and {c}."
    )


def operator_templates(rng: np.random.Generator, kind: str, count: int) -> list[str]:
    """``count`` distillation templates in one operator's own wording.

    Operators write their own prompts: two networks rarely share a template body, though
    every one of these carries the distillation signature of ``kind``.
    """
    openers, instructions, finals = _OPERATOR_PARTS[kind]
    house = house_style(rng)
    out: list[str] = []
    while len(out) < count:
        t = (
            f"{house} {openers[int(rng.integers(len(openers)))]} "
            f"{instructions[int(rng.integers(len(instructions)))]}, "
            f"{finals[int(rng.integers(len(finals)))]}. "
            f'{_ITEMS[int(rng.integers(len(_ITEMS)))]}: "{{q}}"'
        )
        if t not in out:
            out.append(t)
    return out


#: An open-source agent framework's system prompt: hundreds of unrelated people send it.
AGENT_FRAMEWORK = (
    "You are a helpful agent built with OpenLoom, an open-source agent framework. You have "
    "access to the following tools: web_search, python, read_file, write_file. Use this "
    "format: Thought: what to do next. Action: the tool to call. Action Input: the tool_call "
    "arguments as JSON. Observation: the tool's result. Repeat until you know the answer, "
    'then reply with Final Answer. Begin! Question: "{q}"'
)


def exercise_template(rng: np.random.Generator) -> str:
    """A workshop's exercise: every student of one cohort works the same one, in step."""
    topic = TOPICS[int(rng.integers(len(TOPICS)))]
    words = " ".join(str(w) for w in rng.choice(WORDS, size=2, replace=False))
    return (
        f"Workshop {words} exercise {{n}} on {topic}: read the notebook cell, explain step by "
        'step what it computes and why, then suggest one improvement. Cell: "{q}"'
    )

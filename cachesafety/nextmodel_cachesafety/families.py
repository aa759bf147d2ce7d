"""The hand-written request families of the CacheSafety workload (builtin_asks.py holds their
texts): everyday questions with their paraphrases, and the traps where a near-identical request
deserves another answer. Each family draws from the generator's seeded random source in a fixed
order, so the committed workload is reproduced exactly (`generate --check`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from nextmodel_cachesafety import builtin_asks as asks

NO_SYSTEM = ""  # an Ask that must go without the tenant's usual system prompt


@dataclass(frozen=True)
class Ask:
    """One request's content before its tenant and model are chosen."""

    text: str  # the last user message
    meaning: str  # equal meanings (with equal model, system prompt and parameters) deserve one answer
    language: str
    source: str = "cachesafety"
    history: tuple[tuple[str, str], ...] = ()  # earlier (role, content) turns
    system: str | None = None  # None: the group's; NO_SYSTEM: none; else this system prompt
    model: str | None = None  # None: the group's
    params: tuple[tuple[str, object], ...] = ()  # body fields that change the answer
    prose: bool = True  # whitespace and case can be changed without changing the meaning


@dataclass(frozen=True)
class Group:
    family: str  # of every member but the first, which is the `original`
    asks: tuple[Ask, ...]


def _question(key: str, language: str, paraphrase: bool = False) -> Ask:
    entry = next(q for q in asks.QUESTIONS if q[0] == key)
    index = {("en", False): 1, ("en", True): 2, ("ar", False): 3, ("ar", True): 4}[(language, paraphrase)]
    return Ask(entry[index], f"q:{key}:{language}", language)


def _code_ask(key: str, kind: str, code: str, language: str, variant: str) -> Ask:
    text = f"{asks.CODE_QUESTIONS[(kind, language)]}\n```{kind}\n{code}\n```"
    return Ask(text, f"code:{key}:{variant}:{language}", language, prose=False)


def _members(rng: random.Random, count_choices: Sequence[int]) -> int:
    return rng.choice(count_choices)


def own_groups(rng: random.Random) -> list[Group]:
    """The hand-written families: everyday questions, their paraphrases, and the traps. The order of
    the families (and of the draws inside each) is the seeded order the committed workload holds."""
    groups: list[Group] = []
    for family in FAMILIES:
        groups += family(rng)
    return groups


def _paraphrase(rng: random.Random) -> list[Group]:
    """Paraphrase: everyday questions asked twice in other words, in both languages."""
    groups: list[Group] = []
    question_keys = [q[0] for q in asks.QUESTIONS]
    for key in rng.sample(question_keys, 16):
        groups.append(Group("paraphrase", (_question(key, "en"), _question(key, "en", True))))
    for key in rng.sample(question_keys, 20):
        groups.append(Group("paraphrase", (_question(key, "ar"), _question(key, "ar", True))))
    return groups


def _number_change(rng: random.Random) -> list[Group]:
    """Number_change."""
    groups: list[Group] = []
    for templates, language, count in ((asks.NUMBERS_EN, "en", 12), (asks.NUMBERS_AR, "ar", 8)):
        for _ in range(count):
            key, template, values = rng.choice(templates)
            chosen = rng.sample(values, _members(rng, (2, 2, 3)))
            groups.append(Group("number_change", tuple(
                Ask(template.format(n=n), f"num:{key}:{n}:{language}", language) for n in chosen)))
    return groups


def _negation(rng: random.Random) -> list[Group]:
    """Negation."""
    groups: list[Group] = []
    for pairs, language in ((asks.NEGATIONS_EN, "en"), (asks.NEGATIONS_AR, "ar")):
        for index, pair in enumerate(pairs):
            order = list(enumerate(pair))
            rng.shuffle(order)
            groups.append(Group("negation", tuple(
                Ask(text, f"neg:{language}:{index}:{'not' if which else 'is'}", language) for which, text in order)))
    return groups


def _entity_swap(rng: random.Random) -> list[Group]:
    """Entity_swap: another entity in the same template, or the two roles swapped."""
    groups: list[Group] = []
    for language, count in (("en", 12), ("ar", 10)):
        for _ in range(count):
            key, template_en, template_ar, entities = rng.choice(asks.ENTITY_TEMPLATES)
            template = template_en if language == "en" else template_ar
            chosen = rng.sample(entities, _members(rng, (2, 2, 3)))
            groups.append(Group("entity_swap", tuple(
                Ask(template.format(x=entity[1] if language == "en" else entity[2]),
                    f"{key}:{entity[0]}:{language}", language) for entity in chosen)))
    for key, template_en, template_ar, (first, second) in asks.ROLE_SWAPS:
        for language, template, name in (("en", template_en, 1), ("ar", template_ar, 2)):
            order = [(first, second), (second, first)]
            rng.shuffle(order)
            groups.append(Group("entity_swap", tuple(
                Ask(template.format(a=a[name], b=b[name]), f"{key}:{a[0]}-to-{b[0]}:{language}", language)
                for a, b in order)))
    return groups


def _language_change(rng: random.Random) -> list[Group]:
    """Language_change: the same question in the other language, or asking for another language."""
    groups: list[Group] = []
    question_keys = [q[0] for q in asks.QUESTIONS]
    for country in rng.sample(asks.COUNTRIES, 6):
        pair = [Ask(f"What is the capital of {country[1]}?", f"capital:{country[0]}:en", "en"),
                Ask(f"ما هي عاصمة {country[2]}؟", f"capital:{country[0]}:ar", "ar")]
        rng.shuffle(pair)
        groups.append(Group("language_change", tuple(pair)))
    for key in rng.sample(question_keys, 10):
        pair = [_question(key, "en"), _question(key, "ar")]
        rng.shuffle(pair)
        groups.append(Group("language_change", tuple(pair)))
    for language, template, count in (("en", asks.TRANSLATE_EN, 4), ("ar", asks.TRANSLATE_AR, 3)):
        for _ in range(count):
            chosen = rng.sample(asks.TRANSLATE_TARGETS, 2)
            groups.append(Group("language_change", tuple(
                Ask(template.format(x=t[1] if language == "en" else t[2]), f"thanks-in:{t[0]}:{language}", language)
                for t in chosen)))
    for _ in range(2):
        chosen = rng.sample(asks.ANSWER_IN, 2)
        groups.append(Group("language_change", tuple(
            Ask(asks.ANSWER_IN_EN.format(x=name), f"dehydration-in:{code}:en", "en") for code, name in chosen)))
    return groups


def _arabic_diacritics(rng: random.Random) -> list[Group]:
    """Arabic_diacritics: every word set once, a few twice with another template."""
    groups: list[Group] = []
    diacritic_sets = list(asks.DIACRITIC_WORDS) + rng.sample(asks.DIACRITIC_WORDS, 4)
    for _key, words in diacritic_sets:
        template_key, template = rng.choice(asks.DIACRITIC_TEMPLATES)
        chosen = rng.sample(words, min(len(words), _members(rng, (2, 3))))
        groups.append(Group("arabic_diacritics", tuple(
            Ask(template.format(w=word), f"diacritics:{template_key}:{gloss}", "ar") for word, gloss in chosen)))
    return groups


def _case_change(rng: random.Random) -> list[Group]:
    """Case_change."""
    groups: list[Group] = []
    for index, pair in enumerate(asks.CASE_PAIRS):
        order = list(enumerate(pair))
        rng.shuffle(order)
        groups.append(Group("case_change", tuple(
            Ask(text, f"case:{index}:{which}", "en", prose=False) for which, text in order)))
    return groups


def _whitespace_code(rng: random.Random) -> list[Group]:
    """Whitespace_code."""
    groups: list[Group] = []
    for key, kind, first, second in asks.CODE_PAIRS:
        for language in ("en", "ar") if kind == "python" and key in {"loop-print", "early-return"} else ("en",):
            order = [(first, "a"), (second, "b")]
            rng.shuffle(order)
            groups.append(Group("whitespace_code", tuple(
                _code_ask(key, kind, code, language, variant) for code, variant in order)))
    for key, kind, first, second in rng.sample(asks.CODE_PAIRS, 2):
        if (kind, "ar") in asks.CODE_QUESTIONS:
            groups.append(Group("whitespace_code", (_code_ask(key, kind, first, "ar", "a"),
                                                    _code_ask(key, kind, second, "ar", "b"))))
    return groups


def _system_prompt_change(rng: random.Random) -> list[Group]:
    """System_prompt_change: the question is the same, the instructions are not."""
    groups: list[Group] = []
    question_keys = [q[0] for q in asks.QUESTIONS]
    for language, count in (("en", 10), ("ar", 6)):
        for key in rng.sample(question_keys, count):
            base = _question(key, language)
            systems = rng.sample(asks.SYSTEMS_FOR[language], 2)
            if rng.random() < 0.3:
                systems[0] = NO_SYSTEM
            groups.append(Group("system_prompt_change", tuple(
                replace(base, system=asks.SYSTEM_PROMPTS[name] if name else NO_SYSTEM) for name in systems)))
    return groups


def _param_change(rng: random.Random) -> list[Group]:
    """Param_change: the same messages with a parameter that changes the answer."""
    groups: list[Group] = []
    question_keys = [q[0] for q in asks.QUESTIONS]
    for language, count in (("en", 10), ("ar", 5)):
        for key in rng.sample(question_keys, count):
            base = _question(key, language)
            name, params = rng.choice(asks.PARAM_CHANGES)
            pair = [base, replace(base, params=tuple(params.items()))]
            rng.shuffle(pair)
            groups.append(Group("param_change", tuple(pair)))
    for language, template, count in (("en", asks.WEATHER_EN, 3), ("ar", asks.WEATHER_AR, 2)):
        for city in rng.sample(asks.CITIES, count):
            base = Ask(template.format(x=city[1] if language == "en" else city[2]), f"weather-now:{city[0]}:{language}",
                       language)
            pair = [base, replace(base, params=(("tools", [asks.WEATHER_TOOL]),))]
            rng.shuffle(pair)
            groups.append(Group("param_change", tuple(pair)))
    return groups


def _model_change(rng: random.Random) -> list[Group]:
    """Model_change: the same body sent to another model."""
    groups: list[Group] = []
    question_keys = [q[0] for q in asks.QUESTIONS]
    for language, count in (("en", 10), ("ar", 6)):
        for key in rng.sample(question_keys, count):
            base = _question(key, language)
            models = rng.sample(asks.MODEL_CHOICES, _members(rng, (2, 2, 3)))
            groups.append(Group("model_change", tuple(replace(base, model=model) for model in models)))
    return groups


def _context_change(rng: random.Random) -> list[Group]:
    """Context_change: the same last message after a different earlier turn."""
    groups: list[Group] = []
    for contexts, language, per_template in ((asks.CONTEXTS_EN, "en", 2), (asks.CONTEXTS_AR, "ar", 2)):
        for key, history, last, entities in contexts:
            for _ in range(per_template):
                chosen = rng.sample(entities, _members(rng, (2, 3)))
                groups.append(Group("context_change", tuple(
                    Ask(last, f"{key}:{entity[0]}:{language}", language,
                        history=tuple((role, text.format(x=entity[1] if language == "en" else entity[2]))
                                      for role, text in history))
                    for entity in chosen)))
    return groups


FAMILIES = (_paraphrase, _number_change, _negation, _entity_swap, _language_change, _arabic_diacritics,
            _case_change, _whitespace_code, _system_prompt_change, _param_change, _model_change, _context_change)

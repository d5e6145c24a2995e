"""Generate a realistic benchmark site of N papers in sitegen's content format.

    python benchmarks/corpus.py N OUTDIR [--seed S] [--seeds DIR]

Writes OUTDIR/content/papers/<slug>.md (through sitegen.content.frontmatter.dump, so in the contract's
layout), OUTDIR/content/taxonomy.yaml (25 tags with match rules), OUTDIR/content/digests/<YYYY-MM-DD>.yaml
(one order record per digest of ~100 papers, consecutive days) and a small OUTDIR/sitegen.yaml.

Text comes from a word-level Markov chain trained on the real scraped digests in content/digests, so the
vocabulary, sentence length and word frequencies are those of real abstracts. Each paper also gets an
invented method name (as real papers do: "we propose FooNet"), which gives the corpus the long tail of rare
terms that a real collection has and that a search index must store. Output is deterministic for a given N
and seed (whatever --jobs is); paper i is generated from its own random stream, so the first 1,000 papers
of a 10,000-paper corpus have the text of a 1,000-paper corpus.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from sitegen.content.frontmatter import dump  # noqa: E402

DEFAULT_SEEDS = REPO / "content" / "digests"
FIRST_DAY = date(2023, 1, 2)
DIGEST_SIZE = 100
MANIFEST = "corpus.json"

# name, description, single-word match keywords (lowercase, compared with the words of title + abstract)
TAXONOMY: list[tuple[str, str, tuple[str, ...]]] = [
    ("Large Language Models", "Training, scaling and evaluating LLMs.", ("llm", "llms", "gpt-4", "gpt")),
    (
        "Reasoning",
        "Chain-of-thought, planning and mathematical reasoning.",
        ("reasoning", "chain-of-thought"),
    ),
    (
        "Reinforcement Learning",
        "RL, RLHF and reward modeling.",
        ("reinforcement", "reward", "rlhf", "policy"),
    ),
    ("Diffusion Models", "Score-based and diffusion generative models.", ("diffusion", "denoising")),
    ("Computer Vision", "Images, detection and segmentation.", ("image", "images", "visual", "vision")),
    ("Speech and Audio", "Speech recognition, synthesis and audio.", ("speech", "audio", "acoustic")),
    ("Multimodal", "Models that see, read and listen.", ("multimodal", "vision-language", "vlm", "vlms")),
    (
        "Efficient Inference",
        "Quantization, pruning and fast decoding.",
        ("quantization", "pruning", "latency"),
    ),
    ("Optimization", "Optimizers, hyperparameters and training dynamics.", ("optimization", "gradient")),
    ("Privacy and Unlearning", "Membership inference, unlearning, privacy.", ("privacy", "unlearning")),
    ("Safety and Alignment", "Alignment, jailbreaks and red teaming.", ("alignment", "safety", "jailbreak")),
    ("Retrieval", "Retrieval-augmented generation and search.", ("retrieval", "retrieval-augmented", "rag")),
    ("Agents", "Tool use and autonomous agents.", ("agent", "agents", "tool")),
    ("Code Generation", "Program synthesis and code models.", ("code", "program", "programming")),
    ("Benchmarks", "Datasets and evaluation suites.", ("benchmark", "benchmarks", "dataset", "datasets")),
    (
        "Interpretability",
        "Mechanistic interpretability and explanations.",
        ("interpretability", "explanations"),
    ),
    ("Graph Learning", "Graph neural networks.", ("graph", "graphs", "gnn")),
    ("Robotics", "Embodied agents and manipulation.", ("robot", "robotics", "embodied", "manipulation")),
    ("Video", "Video understanding and generation.", ("video", "videos", "temporal")),
    ("3D Vision", "Neural rendering, 3D reconstruction.", ("3d", "rendering", "nerf", "point")),
    ("Transformers", "Attention and sequence architectures.", ("transformer", "transformers", "attention")),
    (
        "Fine-Tuning",
        "Instruction tuning and parameter-efficient tuning.",
        ("fine-tuning", "lora", "instruction"),
    ),
    ("Hyperparameter Optimization", "Tuning and AutoML.", ("hyperparameter", "hyperparameters", "automl")),
    (
        "Regularization",
        "Dropout, augmentation and generalization.",
        ("regularization", "dropout", "augmentation"),
    ),
    ("Theory", "Learning theory and analysis.", ("theoretical", "theory", "bounds", "convergence")),
]


def slugify(text: str, limit: int = 60) -> str:
    """Lowercase ASCII words joined by hyphens, cut at a word boundary near `limit` characters."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit and slug:
            break
        slug = candidate
    return slug or "paper"


TAGS = [(slugify(name), name, description, match) for name, description, match in TAXONOMY]


# --- the word model ---------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
START, END = "", "\n"


def read_seed_entries(folder: Path) -> tuple[list[str], list[str]]:
    """(titles, abstracts) of the seed digests, told apart by shape: an abstract is a long run of words."""
    titles: list[str] = []
    abstracts: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        previous = ""
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.strip()
            if not line:
                continue
            if len(line) >= 300 and line.count(" ") >= 40:
                abstracts.append(line)
                title = previous.removeprefix("Subscribe").strip()
                if 10 <= len(title) < 300:
                    titles.append(title)
            previous = line
    if len(abstracts) < 20:
        raise SystemExit(f"corpus: too few abstracts in {folder} to build a word model")
    return titles, abstracts


@dataclass
class Chain:
    """Word-level Markov chain of order 2 with a back-off to order 1, so that it wanders between sources."""

    order2: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    order1: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def train(cls, sentences: list[list[str]]) -> Chain:
        two: dict[tuple[str, str], list[str]] = defaultdict(list)
        one: dict[str, list[str]] = defaultdict(list)
        for words in sentences:
            a, b = START, START
            for word in [*words, END]:
                two[(a, b)].append(word)
                one[b].append(word)
                a, b = b, word
        return cls(dict(two), dict(one))

    def sentence(self, rng: random.Random, max_words: int, backoff: float = 0.25) -> list[str]:
        rand = rng.random
        order2, order1 = self.order2, self.order1
        a, b = START, START
        out: list[str] = []
        for _ in range(max_words):
            # One draw picks the back-off and the word: r/backoff and (r-backoff)/(1-backoff) are uniform.
            r = rand()
            if not b:
                choices, x = order2[(a, b)], r
            elif r < backoff:
                choices, x = order1[b], r / backoff
            else:
                choices, x = order2[(a, b)], (r - backoff) / (1 - backoff)
            word = choices[int(x * len(choices))]
            if word == END:
                break
            out.append(word)
            a, b = b, word
        return out


@dataclass
class WordModel:
    abstract: Chain
    title: Chain

    @classmethod
    def from_seeds(cls, folder: Path) -> WordModel:
        titles, abstracts = read_seed_entries(folder)
        sentences = [s.split() for text in abstracts for s in _SENTENCE_END.split(text)]
        title_words = [t.split() for t in titles]
        return cls(abstract=Chain.train([s for s in sentences if s]), title=Chain.train(title_words))


# --- papers -----------------------------------------------------------------------------------------------

_SYLLABLES = ("ka", "lo", "ra", "mi", "flo", "ze", "tor", "vi", "neo", "qu", "sen", "dra", "pix", "gem", "lu")
_SUFFIXES = ("", "", "", "Net", "Former", "-7B", "-13B", "Bench", "GPT", "Diff", "-2", "++", "LM", "RL")
_NAME_SENTENCES = (
    "We propose {name}, a simple and scalable approach to this problem.",
    "To this end, we introduce {name}.",
    "We call the resulting method {name}.",
    "Our framework, {name}, requires no additional supervision.",
    "Experiments show that {name} outperforms strong baselines on standard benchmarks.",
)
_NOTES = (
    "Read for the reading group. The ablation in section 4 is the interesting part.",
    "Compare with the earlier work on the same benchmark; the gains look smaller once compute is matched.",
    "- check the released code\n- reproduce table 2\n- ask about the data license",
)


def invented_name(rng: random.Random) -> str:
    if rng.random() < 0.5:  # an acronym, as in "STN", "MCTS", "FLoRA"
        letters = "".join(rng.choice("ABCDEFGHIKLMNOPRSTVWXZ") for _ in range(rng.randint(3, 6)))
        return letters + rng.choice(_SUFFIXES)
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize() + rng.choice(_SUFFIXES)


@dataclass(slots=True)
class PaperText:
    title: str
    abstract: str
    notes: str
    links: list[str]
    tags: list[str]


_KEYWORD_TAG = {word: slug for slug, _name, _desc, match in TAGS for word in match}
_TAG_ORDER = {slug: i for i, (slug, *_rest) in enumerate(TAGS)}


def _tags_for(words: list[str], rng: random.Random) -> list[str]:
    """1-4 tags (mostly 1-3): the tags whose keywords the text uses most, as a keyword taxonomy would pick."""
    hits: dict[str, int] = defaultdict(int)
    for word in words:
        slug = _KEYWORD_TAG.get(word)
        if slug:
            hits[slug] += 1
    wanted = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
    ranked = sorted(hits, key=lambda slug: (-hits[slug], rng.random()))
    chosen = ranked[:wanted]
    while len(chosen) < wanted and rng.random() < 0.5:  # curators add a tag the keywords missed
        extra = TAGS[min(int(rng.expovariate(0.15)), len(TAGS) - 1)][0]
        if extra not in chosen:
            chosen.append(extra)
    if not chosen:
        chosen = [TAGS[min(int(rng.expovariate(0.15)), len(TAGS) - 1)][0]]
    return sorted(chosen, key=_TAG_ORDER.__getitem__)


def make_paper(model: WordModel, seed: int, index: int) -> PaperText:
    rng = random.Random(f"{seed}:{index}")
    name = invented_name(rng)
    words = model.title.sentence(rng, rng.randint(5, 14))
    while len(words) < 3:
        words = model.title.sentence(rng, rng.randint(5, 14))
    title = " ".join(words).rstrip(":,;")
    if rng.random() < 0.55 and ":" not in title:
        title = f"{name}: {title}"
    target = rng.randint(150, 250)
    sentences: list[str] = []
    count = 0
    while count < target:
        words = model.abstract.sentence(rng, 60)
        if len(words) < 5:
            continue
        sentences.append(" ".join(words))
        count += len(words)
    sentences.insert(rng.randint(1, min(3, len(sentences))), rng.choice(_NAME_SENTENCES).format(name=name))
    links: list[str] = []
    if rng.random() < 0.3:
        owner = "".join(rng.choice(_SYLLABLES) for _ in range(3))
        repo = slugify(name, 30) or "code"
        links.append(f"https://github.com/{owner}-lab/{repo}")
        if rng.random() < 0.2:
            links.append(f"https://{slugify(name, 20)}.github.io")
        sentences.append("Code is available at " + " and ".join(links) + ".")
    abstract = " ".join(sentences)
    notes = rng.choice(_NOTES) if rng.random() < 0.05 else ""
    words = re.findall(r"[a-z0-9][a-z0-9-]*", (title + " " + abstract).lower())
    return PaperText(title, abstract, notes, links, _tags_for(words, rng))


_worker_model: WordModel | None = None  # set once per worker process by _init_worker


def _init_worker(model: WordModel) -> None:
    global _worker_model
    _worker_model = model


def _make_chunk(args: tuple[int, int, int]) -> list[PaperText]:
    seed, start, stop = args
    assert _worker_model is not None
    return [make_paper(_worker_model, seed, i) for i in range(start, stop)]


def paper_texts(model: WordModel, n: int, seed: int, jobs: int) -> Iterator[PaperText]:
    """The n papers in order, generated by `jobs` processes (the result does not depend on `jobs`)."""
    if jobs <= 1 or n < 2000:
        for i in range(n):
            yield make_paper(model, seed, i)
        return
    chunk = 500
    tasks = [(seed, start, min(start + chunk, n)) for start in range(0, n, chunk)]
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_init_worker, initargs=(model,)) as pool:
        for texts in pool.imap(_make_chunk, tasks):
            yield from texts


# --- digests ----------------------------------------------------------------------------------------------


def plan_digests(n: int, seed: int) -> tuple[list[list[int]], list[list[int]]]:
    """(digests, appearances): digests[d] is the order of paper indexes in digest d (consecutive days);
    appearances[i] lists the digests paper i is in. ~100 new papers a day; ~15% come back 1-2 days later."""
    rng = random.Random(f"{seed}:digests")
    first: list[int] = []
    day, left = 0, rng.randint(DIGEST_SIZE - 15, DIGEST_SIZE + 15)
    for _ in range(n):
        if left == 0:
            day, left = day + 1, rng.randint(DIGEST_SIZE - 15, DIGEST_SIZE + 15)
        first.append(day)
        left -= 1
    days = day + 1
    digests: list[list[int]] = [[] for _ in range(days)]
    appearances: list[list[int]] = [[d] for d in first]
    for i, d in enumerate(first):
        digests[d].append(i)
    for i, d in enumerate(first):
        roll = rng.random()
        repeats = 2 if roll < 0.04 else 1 if roll < 0.15 else 0
        later = sorted({d + rng.randint(1, 14) for _ in range(repeats)})
        for again in later:
            if again < days:
                digests[again].insert(rng.randint(0, len(digests[again])), i)
                appearances[i].append(again)
    for order in digests:  # the trending order mixes new and returning papers
        rng.shuffle(order)
    return digests, appearances


# --- writing ----------------------------------------------------------------------------------------------


def taxonomy_yaml() -> str:
    lines = ["# Benchmark taxonomy: tag slug, display name, description and keyword match rules.", "tags:"]
    for slug, name, description, match in TAGS:
        lines.append(f"  - slug: {slug}")
        lines.append(f"    name: {json.dumps(name)}")
        lines.append(f"    description: {json.dumps(description)}")
        lines.append(f"    match: [{', '.join(json.dumps(m) for m in match)}]")
    return "\n".join(lines) + "\n"


def digest_yaml(day: date, slugs: list[str]) -> str:
    lines = [f"date: {day.isoformat()}", f"sources: [digests/{day.isoformat()}.txt]", "papers:"]
    lines += [f"  - {slug}" for slug in slugs]
    return "\n".join(lines) + "\n"


def generate(
    n: int, out: Path, seed: int = 1, seeds: Path = DEFAULT_SEEDS, jobs: int | None = None
) -> dict[str, object]:
    """Write the corpus below `out`; returns the manifest (also written to out/corpus.json)."""
    started = time.perf_counter()
    model = WordModel.from_seeds(seeds)
    papers_dir = out / "content" / "papers"
    digests_dir = out / "content" / "digests"
    papers_dir.mkdir(parents=True, exist_ok=True)
    digests_dir.mkdir(parents=True, exist_ok=True)
    for stale in (*papers_dir.glob("*.md"), *digests_dir.glob("*.yaml")):
        stale.unlink()
    digests, appearances = plan_digests(n, seed)
    days = [FIRST_DAY + timedelta(days=d) for d in range(len(digests))]
    slugs: list[str] = []
    used: set[str] = set()
    words = 0
    for i, text in enumerate(paper_texts(model, n, seed, jobs or os.cpu_count() or 1)):
        slug = base = slugify(text.title)
        suffix = 2
        while slug in used:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        used.add(slug)
        slugs.append(slug)
        fields: dict[str, object] = {
            "title": text.title,
            "slug": slug,
            "digests": [days[d].isoformat() for d in sorted(appearances[i])],
            "tags": text.tags,
        }
        if text.links:
            fields["links"] = text.links
        body = text.abstract + "\n" + (f"\n{text.notes}\n" if text.notes else "")
        words += len(text.abstract.split())
        (papers_dir / f"{slug}.md").write_text(dump(fields, body), encoding="utf-8")
    for d, order in enumerate(digests):
        (digests_dir / f"{days[d].isoformat()}.yaml").write_text(
            digest_yaml(days[d], [slugs[i] for i in order]), encoding="utf-8"
        )
    (out / "content" / "taxonomy.yaml").write_text(taxonomy_yaml(), encoding="utf-8")
    config = out / "sitegen.yaml"
    if not config.exists():
        config.write_text(f'title: "Benchmark corpus ({n} papers)"\n', encoding="utf-8")
    manifest = {
        "papers": n,
        "seed": seed,
        "digests": len(digests),
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
        "abstract_words": words,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def existing_manifest(out: Path) -> dict[str, object] | None:
    """The manifest of a corpus already generated in `out`, if its files are all there."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    papers = out / "content" / "papers"
    count = sum(1 for name in os.listdir(papers) if name.endswith(".md")) if papers.is_dir() else -1
    return manifest if count == manifest.get("papers") else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("papers", type=int, help="number of papers")
    parser.add_argument("out", type=Path, help="site folder to write (content/ goes below it)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: number of cores)")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of seed digests (*.txt)")
    args = parser.parse_args(argv)
    if args.papers < 1:
        parser.error("N must be at least 1")
    manifest = generate(args.papers, args.out, seed=args.seed, seeds=args.seeds, jobs=args.jobs)
    print(
        f"{manifest['papers']} papers, {manifest['digests']} digests "
        f"({manifest['first_day']} to {manifest['last_day']}), "
        f"{manifest['abstract_words']} abstract words in {manifest['seconds']} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

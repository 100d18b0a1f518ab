"""The README's scenario reference is exactly what the schema generates: it cannot drift."""

from pathlib import Path

from sim.experiment.schema_doc import BEGIN, END, reference

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_reference_matches_the_schema():
    text = README.read_text()
    assert BEGIN in text and END in text, "README lost its generated scenario reference"
    section = text[text.index(BEGIN): text.index(END) + len(END)]
    assert section == reference(), "README is stale: paste the output of `python -m sim.experiment.schema_doc`"


def test_reference_covers_every_section():
    ref = reference()
    for section in ("**`agents`**", "**`tasks`**", "**`learner.backbone`**", "**`topology.links`**",
                    "**`network`**", "**`gossip[protocol=push_pull]`**", "**`failures.agents`**"):
        assert section in ref, section

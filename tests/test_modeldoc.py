"""docs/parameters.md is the model's current constants table."""
from simulator.present import modeldoc


def test_parameters_page_is_current():
    assert modeldoc.DOC_FILE.read_text(encoding="utf-8") == modeldoc.markdown(), \
        "run: python -m simulator.present.modeldoc"


def test_every_documented_constant_has_units_and_a_comment():
    frame = modeldoc.constants()
    assert len(frame) > 100
    assert (frame["units"].str.len() > 0).all(), frame[frame["units"] == ""]["name"].tolist()
    assert (frame["comment"].str.len() > 0).all(), frame[frame["comment"] == ""]["name"].tolist()

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from partner.dictionary.definitions import bundled_versions
from partner.dictionary.redcap import COLUMNS

BUNDLED = bundled_versions()[-1]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("dictionary", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def check_problems(path):
    """Run `dictionary check` on a broken folder; it must fail, and its report is returned."""
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("dictionary", "check", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def broken(tmp_path):
    copy = tmp_path / "v1"
    shutil.copytree(BUNDLED, copy)
    return copy


def test_check_accepts_the_bundled_dictionary():
    out, _ = run("check")
    assert "is valid" in out and "entities" in out


def test_check_names_file_line_location_and_reason(broken):
    path = broken / "forms" / "diagnosis.yaml"
    text = path.read_text()
    path.write_text(text.replace("type: date", "type: dat", 1))
    line = next(i for i, text_line in enumerate(path.read_text().splitlines(), 1) if "type: dat" in text_line)
    err = check_problems(broken)
    message = err
    assert f"v1/forms/diagnosis.yaml:{line}: fields[" in message
    assert ".type: Input should be" in message


def test_check_reports_yaml_syntax_errors_with_the_line(broken):
    path = broken / "entities.yaml"
    lines = path.read_text().splitlines()
    lines.insert(3, "  - code: [unclosed")
    path.write_text("\n".join(lines))
    err = check_problems(broken)
    assert "v1/entities.yaml:" in err and "not valid YAML" in err


def test_check_finds_a_module_naming_an_unknown_entity(broken):
    module = sorted((broken / "modules").glob("*.yaml"))[0]
    text = module.read_text()
    import yaml

    data = yaml.safe_load(text)
    data["entities"] = ["NO_SUCH_ENTITY"]
    module.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    err = check_problems(broken)
    assert "entity 'NO_SUCH_ENTITY' is not defined in entities.yaml" in err


def test_check_finds_a_condition_on_an_unknown_field(broken):
    import yaml

    path = broken / "forms" / "status.yaml"
    data = yaml.safe_load(path.read_text())
    data["fields"][1]["show_if"] = "patient_sttus == 'dead'"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    err = check_problems(broken)
    assert "'patient_sttus' is not a field of form 'this form'" in err


def test_check_refuses_a_condition_that_tries_to_run_code(broken):
    import yaml

    path = broken / "forms" / "status.yaml"
    data = yaml.safe_load(path.read_text())
    data["fields"][1]["show_if"] = "__import__('os').system('true')"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    err = check_problems(broken)
    assert "only comparisons" in err or "not a field or a constant" in err


def test_check_of_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("dictionary", "check", str(tmp_path / "nowhere"), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_classify_prints_the_groups_and_the_entity():
    run("load")
    out, _ = run("classify", "--morphology", "8370/3", "--topography", "C74.0", "--age-years", "5")
    assert "XIa" in out and "093" in out and "ACC" in out and "EXPeRT scope: yes" in out


@pytest.mark.django_db
def test_classify_prints_json():
    run("load")
    out, _ = run("classify", "--morphology", "8960/3", "--topography", "C64.9", "--age-years", "3", "--json")
    data = json.loads(out)
    assert data["iccc_group"] == "VIa" and data["entity"] is None and data["vrt"] is False
    assert data["reason"]


@pytest.mark.django_db
def test_classify_works_from_the_bundled_files_before_any_load():
    out, _ = run("classify", "--morphology", "8973/3", "--topography", "C34.1", "--age-years", "2", "--json")
    assert json.loads(out)["entity"] == "PPB"


@pytest.mark.django_db
def test_classify_rejects_a_bad_code_clearly():
    with pytest.raises(CommandError, match="8370/7"):
        run("classify", "--morphology", "8370/7", "--topography", "C74.0")


@pytest.mark.django_db
def test_classify_a_csv_keeps_the_rows_and_flags_the_bad_ones(tmp_path):
    run("load")
    source = tmp_path / "in.csv"
    source.write_bytes(
        "\ufeffmorphology;topography;age_years;local_id\n8370/3;C74.0;4;A1\n8010/3;C73.9;15;A2\n"
        "8370;C74.0;4;A3\n8960/3;C64.9;3,5;A4\n8720/3;C44.5;abc;A5\n".encode()
    )
    out_path = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="2 row"):
        call_command(
            "dictionary",
            "classify",
            "--csv",
            str(source),
            "--out",
            str(out_path),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    rows = list(csv.DictReader(out_path.open(encoding="utf-8")))
    assert [r["local_id"] for r in rows] == ["A1", "A2", "A3", "A4", "A5"]
    assert (rows[0]["iccc_group"], rows[0]["iccc_extended"], rows[0]["entity"], rows[0]["vrt"]) == (
        "XIa",
        "093",
        "ACC",
        "yes",
    )
    assert (rows[1]["iccc_group"], rows[1]["entity"]) == ("XIb", "THYROID_CA")
    assert rows[2]["reason"].startswith("error:") and rows[2]["entity"] == ""
    assert rows[3]["iccc_group"] == "VIa" and rows[3]["vrt"] == "no"
    assert "abc" in rows[4]["reason"]
    assert list(rows[0]) == [
        "morphology",
        "topography",
        "age_years",
        "local_id",
        "iccc_group",
        "iccc_extended",
        "entity",
        "vrt",
        "expert_scope",
        "reason",
    ]


@pytest.mark.django_db
def test_classify_a_csv_without_the_columns_writes_nothing(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("histology,site\n8370/3,C74.0\n")
    out_path = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="row 1 \\(header\\): missing column\\(s\\) morphology, topography"):
        run("classify", "--csv", str(source), "--out", str(out_path))
    assert not out_path.exists()


@pytest.mark.django_db
def test_classify_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("morphology,topography\n8370/3,C74.0\n\xe9\n".encode("latin-1") + b"\xff\xfe")
    with pytest.raises(CommandError, match="not UTF-8"):
        run("classify", "--csv", str(source), "--out", str(tmp_path / "o.csv"))


@pytest.mark.django_db
def test_export_redcap_has_the_18_columns_and_one_instrument_per_form(tmp_path):
    run("load")
    out_path = tmp_path / "redcap.csv"
    run("export", "--format", "redcap", "--out", str(out_path))
    rows = list(csv.reader(out_path.open(encoding="utf-8")))
    assert rows[0] == COLUMNS and len(COLUMNS) == 18
    assert all(len(r) == 18 for r in rows)
    from partner.dictionary.loader import get_dictionary

    d = get_dictionary()
    assert {r[1] for r in rows[1:]} == {f.code for f in d.forms}
    assert rows[1][0] == "record_id"
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["sex"][3] == "dropdown" and "female" in by_name["sex"][5]
    assert by_name["diagnosis_date"][7] == "date_ymd" and by_name["diagnosis_date"][12] == "y"
    assert by_name["date_of_death"][11] == "[patient_status] = 'dead'"
    assert by_name["date_of_birth"][10] == "y"


@pytest.mark.django_db
def test_export_json_round_trips_the_definition(tmp_path):
    run("load")
    out_path = tmp_path / "d.json"
    run("export", "--format", "json", "--out", str(out_path))
    data = json.loads(out_path.read_text())
    assert data["version"] >= 1 and len(data["entities"]) >= 25 and data["forms"]


@pytest.mark.django_db
def test_export_without_a_loaded_dictionary_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="partner dictionary load"):
        run("export", "--format", "json", "--out", str(tmp_path / "x.json"))


@pytest.mark.django_db
def test_load_twice_changes_nothing_and_a_changed_version_is_refused(broken):
    out, _ = run("load")
    assert "loaded" in out
    out, _ = run("load")
    assert "already loaded, unchanged" in out
    (broken / "dictionary.yaml").write_text(
        (broken / "dictionary.yaml").read_text().replace("pancreatoblastoma.", "pancreatoblastoma. Changed.")
    )
    with pytest.raises(CommandError, match="already loaded with different content"):
        run("load", str(broken))


def test_the_bundled_folder_is_inside_the_package():
    assert Path(BUNDLED).is_relative_to(Path(__file__).resolve().parents[1])

"""A REDCap data dictionary becomes a draft tumour module that the dictionary's own check accepts."""

import io
import shutil

import pytest
import yaml
from django.core.management import CommandError, call_command

from partner.dictionary.definitions import bundled_versions, read_definitions
from partner.dictionary.redcap_import import RedcapError, convert

HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note","Text Validation Type OR Show Slider Number",'
    '"Text Validation Min","Text Validation Max","Identifier?","Branching Logic (Show field only if...)",'
    '"Required Field?","Custom Alignment","Question Number (surveys only)","Matrix Group Name","Matrix Ranking?",'
    '"Field Annotation"'
)
ROWS = [
    "record_id,hb_trep,,text,Record ID,,,,,,,,,,,,,",
    'hb_pretext,hb_trep,Staging,dropdown,PRETEXT group,"1, I | 2, II | 3, III | 4, IV",,,,,,,y,,,,,',
    "hb_afp,hb_trep,,text,AFP at diagnosis,,ng/mL,number_1dp,0,10000000,,,,,,,,",
    "hb_rupture,hb_trep,,yesno,Tumour rupture,,,,,,,,,,,,,",
    "hb_rupture_date,hb_trep,,text,Date of rupture,,,date_dmy,,,,[hb_rupture] = '1',,,,,,",
    'hb_mets,hb_trep,,checkbox,Metastases,"lung, Lung | bone, Bone",,,,,,,,,,,,',
    "hb_mets_n,hb_trep,,text,Lung nodules,,,integer,1,100,,[hb_mets(lung)] = '1',,,,,,",
    "hb_score,hb_trep,,calc,Risk score,[hb_afp]/1000,,,,,,,,,,,,",
    "hb_notes,hb_trep,,notes,<b>Notes</b>,,,,,,,\"[hb_pretext] = '4' or [hb_pretext] <> '1'\",,,,,,",
    "other_field,other_form,,text,Elsewhere,,,,,,,,,,,,,",
]


def csv_text(*rows):
    return "\ufeff" + "\n".join([HEADER, *rows]) + "\n"


def test_types_choices_ranges_sections_and_branching_logic_carry_over():
    result = convert(csv_text(*ROWS), module="hb_trep", entity="ACC", instrument="hb_trep")
    fields = {f["code"]: f for f in result.module["fields"]}
    assert list(fields) == ["hb_pretext", "hb_afp", "hb_rupture", "hb_rupture_date", "hb_mets", "hb_mets_n", "hb_notes"]
    assert fields["hb_pretext"]["type"] == "choice" and fields["hb_pretext"]["required"] is True
    assert [c["code"] for c in fields["hb_pretext"]["choices"]] == ["1", "2", "3", "4"]
    assert fields["hb_pretext"]["section"]["de"] == "Staging"
    assert (fields["hb_afp"]["type"], fields["hb_afp"]["decimals"], fields["hb_afp"]["max"]) == ("decimal", 1, 1e7)
    assert fields["hb_afp"]["help"]["en"] == "ng/mL"
    assert fields["hb_rupture"]["type"] == "boolean"
    assert fields["hb_rupture_date"] == fields["hb_rupture_date"] | {"type": "date", "show_if": "hb_rupture == True"}
    assert fields["hb_mets"]["type"] == "multichoice"
    assert fields["hb_notes"]["show_if"] == "hb_pretext == '4' or hb_pretext != '1'"
    assert fields["hb_notes"]["labels"]["pl"] == "Notes"  # markup dropped, the label in every language
    assert "show_if" not in fields["hb_mets_n"]
    assert [line.split(":")[0] for line in result.left_out] == ["row 8, hb_mets_n", "row 9, hb_score"]
    assert result.module["entities"] == ["ACC"]


def test_files_that_are_not_a_redcap_dictionary_or_have_bad_choices_are_refused():
    with pytest.raises(RedcapError, match="not a REDCap data dictionary"):
        convert("id,name\n1,x\n", module="m", entity="ACC")
    with pytest.raises(RedcapError, match=r"row 2, x1: choice 'oops' is not written 'code, label'"):
        convert(csv_text("x1,f,,radio,X,oops,,,,,,,,,,,,"), module="m", entity="ACC")
    with pytest.raises(RedcapError, match="no field to convert in instrument 'nothing'"):
        convert(csv_text(*ROWS), module="m", entity="ACC", instrument="nothing")


@pytest.mark.django_db
def test_the_command_writes_a_module_the_dictionary_check_accepts_in_a_new_version(tmp_path):
    source = tmp_path / "hb.csv"
    source.write_text(csv_text(*ROWS), encoding="utf-8")
    out = io.StringIO()
    target = tmp_path / "hb_trep.yaml"
    call_command(
        "dictionary",
        "from-redcap",
        str(source),
        "--module",
        "hb_trep",
        "--entity",
        "acc",
        "--instrument",
        "hb_trep",
        "--out",
        str(target),
        stdout=out,
    )
    assert "module hb_trep with 7 fields; 2 things left out" in out.getvalue()
    assert target.read_text().startswith("# Draft tumour module converted from the REDCap data dictionary hb.csv.")
    version = tmp_path / "v2"
    shutil.copytree(bundled_versions()[-1], version)
    release = version / "dictionary.yaml"
    data = yaml.safe_load(release.read_text())
    release.write_text(release.read_text().replace(f"version: {data['version']}", f"version: {data['version'] + 1}", 1))
    shutil.copy(target, version / "modules" / "hb_trep.yaml")
    definitions = read_definitions(version)
    assert "hb_pretext" in definitions.fields


@pytest.mark.django_db
def test_the_command_refuses_variables_the_dictionary_has_and_unknown_entities(tmp_path):
    source = tmp_path / "clash.csv"
    source.write_text(csv_text("record_id,f,,text,ID,,,,,,,,,,,,,", "sex,f,,text,Sex,,,,,,,,,,,,,"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"variables already in the dictionary .*: sex"):
        call_command(
            "dictionary",
            "from-redcap",
            str(source),
            "--module",
            "m1",
            "--entity",
            "ACC",
            "--out",
            str(tmp_path / "m.yaml"),
        )
    with pytest.raises(CommandError, match="--entity XYZ: no such entity"):
        call_command(
            "dictionary",
            "from-redcap",
            str(source),
            "--module",
            "m1",
            "--entity",
            "XYZ",
            "--out",
            str(tmp_path / "m.yaml"),
        )
    assert not (tmp_path / "m.yaml").exists()

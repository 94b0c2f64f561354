"""A REDCap data dictionary becomes draft tumour modules that the dictionary's own check accepts."""

import io
import shutil

import pytest
import yaml
from django.core.management import CommandError, call_command

from partner.dictionary.definitions import DefinitionErrors, bundled_versions, read_definitions
from partner.dictionary.loader import Dictionary, load_definitions
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
# Shaped like the data dictionaries REDCap projects publish: a first form of identifiers, variables
# the common dataset already has (laterality, metastasis_sites), a slider, alpha_only, a calculated
# field, a ranked matrix, action tags, and branching logic within and across forms.
PROJECT = [
    "record_id,enrolment,,text,Study ID,,,,,,,,,,,,,",
    "first_name,enrolment,Patient,text,First name,,,,,,y,,y,,,,,",
    "last_name,enrolment,,text,Last name,,,,,,y,,y,,,,,",
    "email,enrolment,,text,E-mail of the parents,,,email,,,y,,,,,,,",
    "dob,enrolment,,text,Date of birth,,,date_dmy,,,y,,y,,,,,",
    "enrol_date,enrolment,,text,Date of enrolment,,,date_ymd,2000-01-01,today,,,y,,,,,",
    'laterality,baseline,Tumour,radio,Side,"1, Left | 2, Right | 3, Bilateral",,,,,,,y,,,,,',
    "side_detail,baseline,,text,Describe both sides,,,,,,,[laterality] = '3',,,,,,",
    'metastasis_sites,baseline,,checkbox,Metastases at diagnosis,"lung, Lung | liver, Liver",,,,,,,,,,,,',
    "lung_nodules,baseline,,text,Number of lung nodules,,,integer,1,50,,[metastasis_sites(lung)] = '1',,,,,,",
    'pain,baseline,,slider,Pain at diagnosis,"No pain | Moderate | Worst pain imaginable",,number,,,,,,,,,,',
    "surgeon_initials,baseline,,text,Surgeon's initials,,,alpha_only,,,,,,,,,,",
    "weight_g,baseline,,text,Tumour weight,,grams,number,0,5000,,,,,,,,",
    "weight_kg,baseline,,calc,Tumour weight (kg),[weight_g]/1000,,,,,,,,,,,,",
    'rank_surgery,baseline,Priorities,radio,Surgery,"1, First | 2, Second",,,,,,,,,,priorities,y,',
    'rank_chemo,baseline,,radio,Chemotherapy,"1, First | 2, Second",,,,,,,,,,priorities,y,@HIDDEN-SURVEY',
    "weiss,pathology,Pathology,text,Weiss score,,,integer,0,9,,[laterality] = '1',,,,,,",
    "weiss_date,pathology,,text,Date of review,,,date_ymd,,,,[weiss] > 2,,,,,,",
]


def csv_text(*rows):
    return "\ufeff" + "\n".join([HEADER, *rows]) + "\n"


def from_redcap(tmp_path, rows, *args):
    source = tmp_path / "redcap.csv"
    source.write_text(csv_text(*rows), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("dictionary", "from-redcap", str(source), "--entity", "ACC", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def new_version(tmp_path, *modules):
    """The newest bundled version copied as the next one, with `modules` added."""
    version = tmp_path / "next"
    shutil.copytree(bundled_versions()[-1], version)
    release = version / "dictionary.yaml"
    number = yaml.safe_load(release.read_text())["version"]
    release.write_text(release.read_text().replace(f"version: {number}", f"version: {number + 1}", 1))
    for module in modules:
        shutil.copy(module, version / "modules" / module.name)
    return version


def fields_of(path):
    return {f["code"]: f for f in yaml.safe_load(path.read_text())["fields"]}


def test_types_choices_ranges_sections_and_branching_logic_carry_over():
    result = convert(csv_text(*ROWS), module="hb_trep", entity="ACC", form="hb_trep")
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
    assert [line.split(":")[0] for line in result.left_out] == [
        "row 2, record_id",
        "row 8, hb_mets_n",
        "row 9, hb_score",
    ]
    assert result.module["entities"] == ["ACC"]


def test_files_that_are_not_a_redcap_dictionary_or_have_bad_choices_are_refused():
    with pytest.raises(RedcapError, match="not a REDCap data dictionary"):
        convert("id,name\n1,x\n", module="m", entity="ACC")
    with pytest.raises(RedcapError, match=r"row 2, x1: choice 'oops' is not written 'code, label'"):
        convert(csv_text("x1,f,,radio,X,oops,,,,,,,,,,,,"), module="m", entity="ACC")
    with pytest.raises(RedcapError, match=r"no form 'nothing' in the file \(its forms: hb_trep, other_form\)"):
        convert(csv_text(*ROWS), module="m", entity="ACC", form="nothing")


@pytest.mark.django_db
def test_the_command_writes_a_module_the_dictionary_check_accepts_in_a_new_version(tmp_path):
    target = tmp_path / "hb_trep.yaml"
    out, _ = from_redcap(tmp_path, ROWS, "--module", "hb_trep", "--instrument", "hb_trep", "--out", str(target))
    assert f"{target}: module hb_trep with 7 fields; 3 left out (listed at the top of the file)" in out
    assert target.read_text().startswith("# Draft tumour module converted from the REDCap data dictionary redcap.csv.")
    definitions = read_definitions(new_version(tmp_path, target))
    assert "hb_pretext" in definitions.fields


@pytest.mark.django_db
def test_the_command_refuses_unknown_entities_and_a_module_code_the_dictionary_has(tmp_path):
    rows = ["record_id,f,,text,ID,,,,,,,,,,,,,", "size_cm,f,,text,Size,,,number,,,,,,,,,,"]
    (tmp_path / "x.csv").write_text(csv_text(*rows), encoding="utf-8")
    with pytest.raises(CommandError, match="--entity XYZ: no such entity"):
        call_command(
            "dictionary",
            "from-redcap",
            str(tmp_path / "x.csv"),
            "--module",
            "m1",
            "--entity",
            "XYZ",
            "--out",
            str(tmp_path / "m.yaml"),
        )
    with pytest.raises(CommandError, match="the dictionary already has a form acc"):
        from_redcap(tmp_path, rows, "--module", "acc", "--out", str(tmp_path / "m.yaml"))
    assert not (tmp_path / "m.yaml").exists()


# --- identifiers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_identifier_fields_are_listed_and_left_out(tmp_path):
    out, err = from_redcap(tmp_path, PROJECT, "--module", "acr", "--out", str(tmp_path / "modules"))
    written = {code for path in (tmp_path / "modules").iterdir() for code in fields_of(path)}
    assert not written & {"first_name", "last_name", "email", "dob"}
    for row, name in ((3, "first_name"), (4, "last_name"), (5, "email"), (6, "dob")):
        assert f"redcap.csv: identifier: row {row}, {name} (" in err
    assert "row 6, dob (Date of birth): an identifier in REDCap, left out" in err
    assert "4 identifiers" in out
    assert "# Identifier: row 3, first_name (First name)" in (tmp_path / "modules" / "acr_enrolment.yaml").read_text()


@pytest.mark.django_db
def test_kept_identifiers_are_marked_and_the_check_refuses_them_naming_file_and_field(tmp_path):
    target = tmp_path / "acr_enrolment.yaml"
    _, err = from_redcap(
        tmp_path,
        PROJECT,
        "--module",
        "acr_enrolment",
        "--form",
        "enrolment",
        "--keep-identifiers",
        "--out",
        str(target),
    )
    assert fields_of(target)["first_name"]["identifying"] is True
    assert "enrol_date" in fields_of(target) and "identifying" not in fields_of(target)["enrol_date"]
    assert "row 3, first_name (First name): an identifier in REDCap, kept and marked identifying" in err
    with pytest.raises(DefinitionErrors) as refused:
        read_definitions(new_version(tmp_path, target))
    messages = [str(p) for p in refused.value.problems]
    assert len(messages) == 4
    assert any(
        m.startswith("next/modules/acr_enrolment.yaml:")
        and "fields[0] (first_name).identifying" in m
        and "no form or tumour module holds identifying data" in m
        for m in messages
    ), messages


def test_the_dictionary_check_names_the_file_and_field_marked_identifying(tmp_path):
    version = new_version(tmp_path)
    acc = version / "modules" / "acc.yaml"
    data = yaml.safe_load(acc.read_text())
    data["fields"][1]["identifying"] = True
    acc.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("dictionary", "check", str(version), stdout=io.StringIO(), stderr=err)
    code = data["fields"][1]["code"]
    assert "next/modules/acc.yaml:" in err.getvalue()
    assert f"fields[1] ({code}).identifying: Value error, the field is marked identifying" in err.getvalue()


# --- variables the dictionary already has ------------------------------------------------------


@pytest.mark.django_db
def test_variables_the_dictionary_has_are_renamed_with_the_module_prefix_and_so_is_branching_logic(tmp_path):
    out, err = from_redcap(tmp_path, PROJECT, "--module", "acr", "--out", str(tmp_path / "modules"))
    baseline = fields_of(tmp_path / "modules" / "acr_baseline.yaml")
    assert "laterality" not in baseline and baseline["acr_laterality"]["type"] == "choice"
    assert baseline["acr_metastasis_sites"]["type"] == "multichoice"
    assert baseline["side_detail"]["show_if"] == "acr_laterality == '3'"
    assert "row 8, laterality: renamed acr_laterality (the dictionary already has a field laterality)" in err
    assert "row 10, metastasis_sites: renamed acr_metastasis_sites" in err
    # A checkbox option in branching logic has no equivalent, but the listed logic names the new variable.
    assert "row 11, lung_nodules: branching logic \"[acr_metastasis_sites(lung)] = '1'\" not kept" in err
    assert "2 renamed" in out
    pathology = fields_of(tmp_path / "modules" / "acr_pathology.yaml")
    assert pathology["weiss"]["show_if"] == "acr_baseline.acr_laterality == '1'"
    assert pathology["weiss_date"]["show_if"] == "weiss > 2"


# --- sliders, forms, checks not carried over ---------------------------------------------------


def test_a_sliders_labels_are_kept_in_its_help_with_the_values_they_stand_at():
    result = convert(csv_text(*PROJECT), module="acr", entity="ACC", form="baseline")
    pain = {f["code"]: f for f in result.module["fields"]}["pain"]
    assert (pain["type"], pain["min"], pain["max"]) == ("integer", 0, 100)
    assert pain["help"]["fr"] == "0 = No pain; 50 = Moderate; 100 = Worst pain imaginable"
    ranged = convert(
        csv_text('s1,f,,slider,Fatigue,"None | Severe",Today,,1,10,,,,,,,,'), module="m", entity="ACC"
    ).module["fields"][0]
    assert (ranged["min"], ranged["max"], ranged["help"]["en"]) == (1, 10, "Today (1 = None; 10 = Severe)")


@pytest.mark.django_db
def test_each_form_becomes_its_own_module_and_one_yaml_file_asks_for_a_form(tmp_path):
    from_redcap(tmp_path, PROJECT, "--module", "acr", "--out", str(tmp_path / "modules"))
    assert sorted(p.name for p in (tmp_path / "modules").iterdir()) == [
        "acr_baseline.yaml",
        "acr_enrolment.yaml",
        "acr_pathology.yaml",
    ]
    assert list(fields_of(tmp_path / "modules" / "acr_enrolment.yaml")) == ["enrol_date"]
    assert list(fields_of(tmp_path / "modules" / "acr_pathology.yaml")) == ["weiss", "weiss_date"]
    with pytest.raises(CommandError, match=r"3 forms have fields \(enrolment, baseline, pathology\): give --form"):
        from_redcap(tmp_path, PROJECT, "--module", "acr", "--out", str(tmp_path / "all.yaml"))
    assert not (tmp_path / "all.yaml").exists()


@pytest.mark.django_db
def test_the_modules_of_a_project_pass_the_check_and_load_as_other_modules_do(tmp_path):
    from_redcap(tmp_path, PROJECT, "--module", "acr", "--out", str(tmp_path / "modules"))
    definitions = read_definitions(new_version(tmp_path, *sorted((tmp_path / "modules").iterdir())))
    assert definitions.fields["acr_laterality"][0].code == "acr_baseline"
    loaded = Dictionary(load_definitions(definitions).version)
    modules = [f.code for f in loaded.modules_for("ACC")]
    assert modules[-3:] == ["acr_enrolment", "acr_baseline", "acr_pathology"]


def test_every_check_not_carried_over_is_listed_with_its_field_and_why():
    result = convert(csv_text(*PROJECT), module="acr", entity="ACC")
    left_out = "\n".join(result.left_out)
    assert "row 13, surgeon_initials: text validation 'alpha_only' not kept (the field takes any text)" in left_out
    assert "row 7, enrol_date: max 'today' not kept (only numbers have a range here)" in left_out
    assert "row 7, enrol_date: min '2000-01-01' not kept" in left_out
    assert "row 15, weight_kg: calculated field ([weight_g]/1000) left out" in left_out
    assert "row 16, rank_surgery: matrix ranking of group 'priorities' not kept" in left_out
    assert "row 17, rank_chemo: field annotation '@HIDDEN-SURVEY' not kept" in left_out
    assert "row 2, record_id: REDCap's record identifier" in left_out


# --- each defect on its own, through the command as it was called before -------------------------


def module_from(tmp_path, *rows):
    target = tmp_path / "m1.yaml"
    _, err = from_redcap(tmp_path, ["record_id,f,,text,ID,,,,,,,,,,,,,", *rows], "--module", "m1", "--out", str(target))
    return fields_of(target), target.read_text(), err


@pytest.mark.django_db
def test_a_field_redcap_marks_as_an_identifier_is_not_written(tmp_path):
    fields, heading, err = module_from(
        tmp_path, "child_name,f,,text,Child's name,,,,,,y,,,,,,,", "size_cm,f,,text,Size,,,number,,,,,,,,,,"
    )
    assert list(fields) == ["size_cm"]
    assert "# Identifier: row 3, child_name (Child's name): an identifier in REDCap, left out" in heading
    assert "identifier: row 3, child_name" in err


@pytest.mark.django_db
def test_a_variable_the_dictionary_has_is_renamed_not_refused(tmp_path):
    fields, _, _ = module_from(
        tmp_path,
        'grade,f,,radio,Grade,"1, Low | 2, High",,,,,,,,,,,,',
        "grade_note,f,,text,Why high,,,,,,,[grade] = '2',,,,,,",
    )
    assert list(fields) == ["m1_grade", "grade_note"]
    assert fields["grade_note"]["show_if"] == "m1_grade == '2'"


@pytest.mark.django_db
def test_a_sliders_labels_are_written(tmp_path):
    fields, _, _ = module_from(tmp_path, 's1,f,,slider,Mood,"Sad | Happy",,,,,,,,,,,,')
    assert fields["s1"]["help"]["en"] == "0 = Sad; 100 = Happy"


@pytest.mark.django_db
def test_two_forms_are_two_modules(tmp_path):
    rows = ["record_id,a,,text,ID,,,,,,,,,,,,,", "x1,a,,yesno,X,,,,,,,,,,,,,", "y1,b,,yesno,Y,,,,,,,,,,,,,"]
    from_redcap(tmp_path, rows, "--module", "m1", "--out", str(tmp_path / "out"))
    assert list(fields_of(tmp_path / "out" / "m1_a.yaml")) == ["x1"]
    assert list(fields_of(tmp_path / "out" / "m1_b.yaml")) == ["y1"]


@pytest.mark.django_db
def test_an_alpha_only_validation_is_listed(tmp_path):
    fields, heading, err = module_from(tmp_path, "initials,f,,text,Initials,,,alpha_only,,,,,,,,,,")
    assert fields["initials"]["type"] == "text"
    assert "# Left out: row 3, initials: text validation 'alpha_only' not kept" in heading
    assert "left out: row 3, initials: text validation 'alpha_only' not kept" in err


def test_a_renamed_variable_that_would_clash_again_stops_the_conversion_naming_the_row():
    rows = ["record_id,f,,text,ID,,,,,,,,,,,,,", "grade,f,,yesno,G,,,,,,,,,,,,,", "m1_grade,f,,yesno,H,,,,,,,,,,,,,"]
    with pytest.raises(RedcapError, match=r"row 3, grade: the dictionary already has this variable and 'm1_grade'"):
        convert(csv_text(*rows), module="m1", entity="ACC", taken={"grade"})


def test_branching_logic_on_a_form_left_aside_is_listed_not_kept():
    result = convert(csv_text(*PROJECT), module="acr", entity="ACC", form="pathology")
    weiss = result.module["fields"][0]
    assert "show_if" not in weiss
    assert "weiss: branching logic on laterality, a field that is not converted (not kept)" in result.left_out


def test_a_number_quoted_in_branching_logic_is_compared_as_a_number():
    rows = [
        "record_id,f,,text,ID,,,,,,,,,,,,,",
        "nodes,f,,text,Nodes,,,integer,,,,,,,,,,",
        "nodes_site,f,,text,Where,,,,,,,[nodes] >= '2' and [nodes] <> '10.5',,,,,,",
        'kind,f,,radio,Kind,"1, A | 2, B",,,,,,,,,,,,',
        "kind_other,f,,text,Other,,,,,,,[kind] = '2',,,,,,",
    ]
    fields = {f["code"]: f for f in convert(csv_text(*rows), module="m1", entity="ACC").module["fields"]}
    assert fields["nodes_site"]["show_if"] == "nodes >= 2 and nodes != 10.5"
    assert fields["kind_other"]["show_if"] == "kind == '2'"  # a choice's codes are text


def test_branching_logic_on_another_event_is_listed_not_misread():
    rows = [
        "record_id,f,,text,ID,,,,,,,,,,,,,",
        "x1,f,,yesno,X,,,,,,,,,,,,,",
        "y1,f,,yesno,Y,,,,,,,[baseline_arm_1][x1] = '1',,,,,,",
    ]
    result = convert(csv_text(*rows), module="m1", entity="ACC")
    assert "show_if" not in result.module["fields"][1]
    assert "row 4, y1: branching logic \"[baseline_arm_1][x1] = '1'\" not kept (a reference to an event" in (
        "\n".join(result.left_out)
    )

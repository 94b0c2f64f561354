"""`partner identity encode`: pseudonyms and encodings from a CSV of identities, all or nothing."""

import csv
import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from partner.lib.pseudonym import Identity, pseudonym
from partner.linkage.encoding import REGISTRY_SCHEMA, encode_identity, from_text
from partner.linkage.matching import LIKELY_THRESHOLD, dice

HEADER = "local_id,given_names,family_names,date_of_birth,sex,country_of_birth\n"


def encode(source, target):
    out = io.StringIO()
    call_command("identity", "encode", str(source), "--out", str(target), stdout=out)
    return out.getvalue()


def test_it_writes_the_pseudonym_and_the_encoding_of_each_row(tmp_path):
    source = tmp_path / "identities.csv"
    source.write_text(
        HEADER + "PD-1,Giulia,Rossetti,2012-05-04,female,IT\nPD-2,Tommaso,Dell'Acqua,2009-11-30,male,it\n",
        encoding="utf-8",
    )
    target = tmp_path / "encoded.csv"
    assert "2 identities" in encode(source, target)
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    giulia = Identity("Giulia", "Rossetti", dt.date(2012, 5, 4), "female", "IT")
    assert [r["local_id"] for r in rows] == ["PD-1", "PD-2"]
    assert rows[0]["pseudonym"] == pseudonym(giulia, settings.PSEUDONYM_KEY)
    assert from_text(rows[0]["encoding"]) == encode_identity(giulia, settings.LINKAGE_KEY)
    assert {r["schema_version"] for r in rows} == {REGISTRY_SCHEMA.version}
    assert "Rossetti" not in target.read_text(encoding="utf-8")


def test_the_same_child_typed_at_two_nodes_matches_and_local_id_may_be_absent(tmp_path):
    source = tmp_path / "paris.csv"
    source.write_text(
        "given_names,family_names,date_of_birth,sex,country_of_birth\n"
        "Giulia,Rosetti,2012-05-04,female,IT\n"
        "Giulia,Rossetti,2012-05-04,female,IT\n",
        encoding="utf-8-sig",
    )
    target = tmp_path / "paris-encoded.csv"
    encode(source, target)
    with target.open(encoding="utf-8", newline="") as handle:
        first, second = (from_text(r["encoding"]) for r in csv.DictReader(handle))
    assert dice(first, second) >= LIKELY_THRESHOLD


def test_bad_rows_are_named_by_file_row_and_field_and_nothing_is_written(tmp_path):
    source = tmp_path / "identities.csv"
    source.write_text(
        HEADER
        + "A,Giulia,Rossetti,2012-05-04,female,IT\n"
        + "B,Marco,Bianchi,04/05/2012,male,IT\n"
        + "C,Anna,Nowak,2011-02-03,girl,PL\n"
        + "D,,Nowak,2011-02-03,female,Poland\n"
        + "E,Lena,Kowalska,2020-02-31,female,PL\n",
        encoding="utf-8",
    )
    target = tmp_path / "encoded.csv"
    with pytest.raises(CommandError) as caught:
        encode(source, target)
    message = str(caught.value)
    assert f"{source}, row 3, date_of_birth: '04/05/2012' is not a date written YYYY-MM-DD" in message
    assert f"{source}, row 4, sex: 'girl' is not one of female, male, other, unknown" in message
    assert f"{source}, row 5, given_names: empty" in message
    assert f"{source}, row 5, country_of_birth" in message
    assert f"{source}, row 6, date_of_birth: '2020-02-31' is not a date that exists" in message
    assert "row 2" not in message
    assert list(tmp_path.iterdir()) == [source]


def test_a_missing_column_is_named(tmp_path):
    source = tmp_path / "identities.csv"
    source.write_text("given_names,family_names,date_of_birth,country_of_birth\nAnna,Nowak,2011-02-03,PL\n")
    with pytest.raises(CommandError, match=r"identities\.csv: missing column sex"):
        encode(source, tmp_path / "encoded.csv")


def test_an_existing_output_is_kept_whole_when_the_input_is_bad(tmp_path):
    source = tmp_path / "identities.csv"
    source.write_text(HEADER + "A,Giulia,Rossetti,2012-05-04,female,IT\n")
    target = tmp_path / "encoded.csv"
    encode(source, target)
    before = target.read_bytes()
    source.write_text(HEADER + "A,Giulia,Rossetti,2012-05-04,female,IT\nB,Marco,Bianchi,2012-13-01,male,IT\n")
    with pytest.raises(CommandError, match="row 3, date_of_birth"):
        encode(source, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoded.csv", "identities.csv"]


def test_an_unreadable_input_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.csv: cannot read the file"):
        encode(tmp_path / "missing.csv", tmp_path / "encoded.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "A,Zoé,Martin,2012-05-04,female,FR\n").encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        encode(latin, tmp_path / "encoded.csv")


def test_a_failure_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    from partner.linkage.management.commands import identity

    calls = []

    class FailingEncoder(identity.Encoder):
        def encode_identity(self, identity_):
            calls.append(identity_)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            return super().encode_identity(identity_)

    monkeypatch.setattr(identity, "Encoder", FailingEncoder)
    source = tmp_path / "identities.csv"
    source.write_text(HEADER + "A,Giulia,Rossetti,2012-05-04,female,IT\nB,Marco,Bianchi,2010-01-02,male,IT\n")
    with pytest.raises(CommandError, match=r"encoded\.csv: cannot write the file"):
        encode(source, tmp_path / "encoded.csv")
    assert list(tmp_path.iterdir()) == [source]

"""Reading national files: what is read, and every malformed file refused with file, row and column."""

import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from partner.interop.tables import MAX_CELL, TableError, read_table


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_a_csv_with_a_byte_order_mark_and_semicolons_is_read_with_spreadsheet_row_numbers(tmp_path):
    path = write(tmp_path, "trep.csv", "\ufeffID;SESSO\r\nA1;maschio\r\n\r\nA2;femmina\r\n")
    table = read_table(path)
    assert table.columns == ["ID", "SESSO"]
    assert table.rows == [(2, {"ID": "A1", "SESSO": "maschio"}), (4, {"ID": "A2", "SESSO": "femmina"})]


def test_text_that_is_not_utf8_names_the_line_and_the_way_out(tmp_path):
    path = write(tmp_path, "latin.csv", "id,name\n1,ok\n2,Zoé\n".encode("latin-1"))
    with pytest.raises(TableError, match=r"latin\.csv, line 3: not utf-8 text \(byte 0xe9\).*e.g. latin-1\)"):
        read_table(path)
    assert read_table(path, encoding="latin-1").rows[1][1]["name"] == "Zoé"


def test_ragged_rows_are_refused_naming_the_row(tmp_path):
    with pytest.raises(TableError, match=r"long\.csv, row 3: 3 cells, but the header names 2 columns"):
        read_table(write(tmp_path, "long.csv", "a,b\n1,2\n1,2,3\n"))
    with pytest.raises(TableError, match=r"short\.csv, row 2: 1 cells, but the header names 2 columns"):
        read_table(write(tmp_path, "short.csv", "a,b\n1\n"))


def test_a_huge_cell_an_empty_file_a_nameless_or_repeated_column_are_refused(tmp_path):
    with pytest.raises(TableError, match=rf"row 2, column b: a cell of {MAX_CELL + 1:,} characters"):
        read_table(write(tmp_path, "big.csv", "a,b\n1," + "x" * (MAX_CELL + 1) + "\n"))
    with pytest.raises(TableError, match=r"empty\.csv: empty"):
        read_table(write(tmp_path, "empty.csv", "\n\n"))
    with pytest.raises(TableError, match=r"header is there, but no case rows"):
        read_table(write(tmp_path, "header.csv", "a,b\n"))
    with pytest.raises(TableError, match=r"row 1: column 'a' appears twice \(columns 1 and 3\)"):
        read_table(write(tmp_path, "twice.csv", "a,b,a\n1,2,3\n"))
    with pytest.raises(TableError, match=r"row 1, column 2: a column without a name"):
        read_table(write(tmp_path, "nameless.csv", "a,,c\n1,2,3\n"))


def test_binary_and_unknown_files_are_refused(tmp_path):
    with pytest.raises(TableError, match=r"Excel workbook saved under a text name"):
        read_table(write(tmp_path, "book.csv", b"PK\x03\x04rest"))
    with pytest.raises(TableError, match=r"not a readable Excel workbook"):
        read_table(write(tmp_path, "broken.xlsx", b"PK\x03\x04rest"))
    with pytest.raises(TableError, match=r"NUL characters"):
        read_table(write(tmp_path, "utf16.csv", "a,b\n1,2\n".encode("utf-16-le")))
    with pytest.raises(TableError, match=r"\.pdf.*not a table"):
        read_table(write(tmp_path, "report.pdf", b"%PDF"))
    with pytest.raises(TableError, match=r"missing\.csv: cannot read the file"):
        read_table(tmp_path / "missing.csv")


def workbook(tmp_path, rows, name="cases.xlsx"):
    book = Workbook()
    sheet = book.active
    sheet.title = "Casi"
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def test_an_excel_sheet_gives_dates_as_iso_and_whole_numbers_without_decimals(tmp_path):
    path = workbook(
        tmp_path,
        [["ID", "NATO", "PESO", "VIVO"], ["A1", dt.datetime(2012, 5, 4), 120.0, True], ["A2", None, 7.5, None]],
    )
    table = read_table(path)
    assert table.source == "cases.xlsx [Casi]"
    assert table.rows == [
        (2, {"ID": "A1", "NATO": "2012-05-04", "PESO": "120", "VIVO": "true"}),
        (3, {"ID": "A2", "NATO": "", "PESO": "7.5", "VIVO": ""}),
    ]


def test_a_formula_or_an_empty_sheet_is_refused_naming_the_cell(tmp_path):
    with pytest.raises(
        TableError, match=r"cases\.xlsx, row 2, column X \(B\): a formula \(=1\+1\); copy the sheet and paste values"
    ):
        read_table(workbook(tmp_path, [["ID", "X"], ["A1", "=1+1"]]))
    with pytest.raises(TableError, match=r"empty: no header row"):
        read_table(workbook(tmp_path, [], name="empty.xlsx"))
    with pytest.raises(TableError, match=r"no sheet 'Other' \(sheets: Casi\)"):
        read_table(workbook(tmp_path, [["ID"], ["A1"]], name="one.xlsx"), sheet="Other")


def test_a_workbook_with_cases_on_two_sheets_is_refused_naming_them_unless_a_sheet_is_chosen(tmp_path):
    path = workbook(tmp_path, [["ID"], ["A1"], ["A2"]])
    book = load_workbook(path)
    book.create_sheet("Empty")
    more = book.create_sheet("More")
    for row in (["ID"], ["B1"], ["B2"]):
        more.append(row)
    book.save(path)
    with pytest.raises(TableError, match=r"cases\.xlsx: 2 sheets hold rows \('Casi', 'More'\);.*--sheet NAME"):
        read_table(path)
    assert [cells["ID"] for _n, cells in read_table(path, sheet="More").rows] == ["B1", "B2"]


def test_a_notes_sheet_before_the_cases_is_not_read_as_the_cases(tmp_path):
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Exported from the national registry on 3 May; see the second sheet."])
    cases = book.create_sheet("Cases")
    for row in (["ID", "SEX"], ["A1", "F"]):
        cases.append(row)
    path = tmp_path / "notes.xlsx"
    book.save(path)
    with pytest.raises(TableError, match=r"2 sheets hold rows \('Notes', 'Cases'\)"):
        read_table(path)
    assert read_table(path, sheet="Cases").rows == [(2, {"ID": "A1", "SEX": "F"})]


def test_a_workbook_names_a_column_by_its_header_and_its_letter(tmp_path):
    table = read_table(workbook(tmp_path, [["ID", "SEX", "BORN"], ["A1", "F", "2012-05-04"]]))
    assert table.column_label("BORN") == "BORN (C)"
    assert read_table(write(tmp_path, "plain.csv", b"ID,BORN\nA1,2012\n")).column_label("BORN") == "BORN"
    with pytest.raises(TableError, match=r"row 1: column 'ID' appears twice \(columns A and C\)"):
        read_table(workbook(tmp_path, [["ID", "SEX", "ID"], ["A1", "F", "A2"]], name="twice.xlsx"))
    wide = [[f"C{i}" for i in range(1, 29)], ["x"] * 27 + ["=A1"]]
    with pytest.raises(TableError, match=r"row 2, column C28 \(AB\): a formula"):
        read_table(workbook(tmp_path, wide, name="wide.xlsx"))

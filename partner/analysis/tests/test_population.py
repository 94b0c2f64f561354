import gzip
import io

import pytest

from partner.analysis.population import read_eurostat

# The shape of Eurostat's bulk download of demo_pjan: tab-separated, codes joined by commas in the
# first column, a space after each value where a flag may follow, ":" for a missing value.
DEMO_PJAN = (
    "freq,unit,age,sex,geo\\TIME_PERIOD\t2021 \t2022 \t2023 \n"
    "A,NR,TOTAL,T,IT\t59236213 \t59030133 \t58997201 p\n"
    "A,NR,UNK,T,IT\t: \t: \t: \n"
    "A,NR,Y_LT1,T,IT\t404892 \t399431 \t393333 p\n"
    "A,NR,Y1,T,IT\t420084 \t406353 \t400222 p\n"
    "A,NR,Y19,F,IT\t285500 \t283101 e\t: \n"
    "A,NR,Y20,T,IT\t590001 \t588100 \t587000 p\n"
    "A,NR,Y_OPEN,T,IT\t22000 \t22500 \t23000 p\n"
    "A,NR,Y1,M,EL\t42911 \t41203 b\t40876 \n"
)

DEMO_PJANGROUP = (
    "freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \n"
    "A,NR,Y_LT5,T,FR\t3480000 \n"
    "A,NR,Y5-9,T,FR\t3890000 \n"
    "A,NR,Y10-14,T,FR\t4150000 p\n"
    "A,NR,Y15-19,T,FR\t4120000 \n"
    "A,NR,Y20-24,T,FR\t3800000 \n"
    "A,NR,Y_GE85,T,FR\t2300000 \n"
)

SDMX_CSV = (
    "DATAFLOW,LAST UPDATE,freq,unit,age,sex,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
    "ESTAT:DEMO_PJAN(1.0),15/03/24 23:00:00,A,NR,Y_LT1,F,DE,2022,360118,\n"
    "ESTAT:DEMO_PJAN(1.0),15/03/24 23:00:00,A,NR,Y1,F,DE,2022,388001,p\n"
    "ESTAT:DEMO_PJAN(1.0),15/03/24 23:00:00,A,NR,Y2,F,DE,2022,,\n"
    "ESTAT:DEMO_PJAN(1.0),15/03/24 23:00:00,A,NR,TOTAL,F,DE,2022,42468102,\n"
    "ESTAT:DEMO_PJAN(1.0),15/03/24 23:00:00,A,NR,Y5,F,UK,2019,390450,\n"
)


def read(text: str):
    return read_eurostat(io.StringIO(text))


def test_it_reads_the_bulk_tsv_into_paediatric_single_years():
    population = read(DEMO_PJAN)
    assert list(population.columns) == ["country", "year", "sex", "age", "age_width", "population"]
    italy = population[(population.country == "IT") & (population.sex == "T")]
    assert italy[italy.year == 2023].set_index("age").population.to_dict() == {0: 393333.0, 1: 400222.0}
    assert set(italy.age_width) == {1}


def test_it_reads_flagged_values_and_leaves_out_missing_ones():
    population = read(DEMO_PJAN)
    girls_19 = population[(population.sex == "F") & (population.age == 19)]
    assert girls_19.set_index("year").population.to_dict() == {2021: 285500.0, 2022: 283101.0}


def test_it_leaves_out_totals_unknown_open_and_adult_ages():
    population = read(DEMO_PJAN)
    assert population.age.between(0, 19).all()
    assert len(population) == 3 * 2 + 2 + 3


def test_it_writes_greece_and_the_united_kingdom_with_their_iso_codes():
    assert set(read(DEMO_PJAN).country) == {"IT", "GR"}
    assert set(read(SDMX_CSV).country) == {"DE", "GB"}


def test_it_reads_five_year_bands_with_their_width():
    population = read(DEMO_PJANGROUP)
    assert population[["age", "age_width", "population"]].values.tolist() == [
        [0, 5, 3480000.0],
        [5, 5, 3890000.0],
        [10, 5, 4150000.0],
        [15, 5, 4120000.0],
    ]


def test_it_reads_sdmx_csv():
    population = read(SDMX_CSV)
    germany = population[population.country == "DE"]
    assert germany[["year", "sex", "age", "population"]].values.tolist() == [
        [2022, "F", 0, 360118.0],
        [2022, "F", 1, 388001.0],
    ]


def test_it_reads_a_gzipped_download_from_disk(tmp_path):
    path = tmp_path / "demo_pjan.tsv.gz"
    path.write_bytes(gzip.compress(DEMO_PJAN.encode()))
    assert len(read_eurostat(path)) == len(read(DEMO_PJAN))
    assert len(read_eurostat(io.BytesIO(DEMO_PJAN.encode()))) == len(read(DEMO_PJAN))


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("age,sex,geo,2020\nY1,T,IT,5\n", "line 1: not a Eurostat table"),
        ("freq,unit,sex,geo\\TIME_PERIOD\t2023 \nA,NR,T,IT\t5 \n", "line 1: no age column"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023-Q1 \nA,NR,Y1,T,IT\t5 \n", "line 1: expected one column per year"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \nA,NR,Y1,T,IT\t5 \nA,NR,Y1,T\t5 \n", "line 3: expected 5 codes"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \nA,NR,Y1,T,IT\t5 \nA,NR,Y2,T,IT\tmany \n", "line 3: not a popul"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \nA,NR,Y1,T,IT\t5 \nA,NR,AGE2,T,IT\t5 \n", "line 3: unknown age"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \nA,NR,Y1,X,IT\t5 \n", "line 2: unknown sex code 'X'"),
        ("freq,unit,age,sex,geo\\TIME_PERIOD\t2023 \nA,NR,Y1,T,IT\t5 \nA,NR,Y_LT5,T,IT\t9 \n", "line 3: age 1 of IT"),
        (
            "DATAFLOW,freq,age,sex,geo,TIME_PERIOD,OBS_VALUE\nX,A,Y1,T,IT,2020,5\nX,A,Y2,T,IT,20x0,5\n",
            "line 3: not a year",
        ),
    ],
)
def test_it_refuses_another_shape_naming_the_file_and_line(text, fragment):
    buffer = io.StringIO(text)
    buffer.name = "population.tsv"
    with pytest.raises(ValueError, match=f"population.tsv, {fragment}"):
        read_eurostat(buffer)

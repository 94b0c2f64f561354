"""The `partner` command as a newcomer types it: a bad configuration is one line, README commands run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import TestCase

ROOT = Path(__file__).resolve().parents[2]
#: The console script installed beside the interpreter that runs the tests (.venv/bin/partner).
BIN = Path(sys.executable).parent
SECRET_VARIABLES = ("SECRET_KEY_FILE", "PARTNER_PSEUDONYM_KEY_FILE", "PARTNER_LINKAGE_KEY_FILE")


def partner(args: list[str], cwd: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """Run `partner ARGS` as a shell would after `source .venv/bin/activate`, on a var/ of its own."""
    env = {k: v for k, v in os.environ.items() if k not in (*SECRET_VARIABLES, "DEBUG", "DATABASE_URL")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PARTNER_VAR_DIR=str(cwd / "var"))
    env.update(overrides)
    return subprocess.run(
        ["partner", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


class ConfigurationErrorTests(TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())

    def test_it_says_in_one_line_that_the_secrets_are_missing_outside_debug_mode(self) -> None:
        run = partner(["dictionary", "classify", "--morphology", "8370/3", "--topography", "C74.0"], self.tmp)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertNotIn("Traceback", run.stderr)
        lines = run.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, run.stderr)
        self.assertTrue(lines[0].startswith("partner: SECRET_KEY_FILE"), lines[0])
        self.assertIn("export DEBUG=true", lines[0])
        self.assertEqual(run.stdout, "")

    def test_it_never_falls_back_on_development_keys_outside_debug_mode(self) -> None:
        partner(["dictionary", "check"], self.tmp, DEBUG="true")
        self.assertTrue((self.tmp / "var" / "dev-secrets" / "secret_key").exists())
        run = partner(["dictionary", "check"], self.tmp)
        self.assertEqual(run.returncode, 2, run.stderr)

    def test_it_says_in_one_line_that_a_setting_is_malformed(self) -> None:
        run = partner(["help"], self.tmp, DEBUG="maybe")
        self.assertEqual(run.returncode, 2)
        self.assertEqual(run.stderr.strip(), "partner: DEBUG='maybe': expected true or false")

    def test_it_names_a_key_file_it_cannot_read(self) -> None:
        missing = str(self.tmp / "missing")
        run = partner(["help"], self.tmp, **dict.fromkeys(SECRET_VARIABLES, missing))
        self.assertEqual(run.returncode, 2)
        self.assertNotIn("Traceback", run.stderr)
        self.assertEqual(len(run.stderr.strip().splitlines()), 1, run.stderr)
        self.assertIn(f"={missing}: cannot read the file", run.stderr)


# --- the commands of the README ------------------------------------------------------------------


def readme_commands(text: str) -> list[str]:
    """Every `partner ...` command line of README.md: in code blocks and in inline code."""
    found: list[str] = []
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    blocks += re.findall(r"(?:^|\n\n)((?:(?: {4}|\t)[^\n]*\n?)+)", text)
    for block in blocks:
        for line in block.splitlines():
            line = line.strip()
            if re.match(r"(\.venv/bin/)?partner ", line):
                found.append(line)
    found += [" ".join(span.split()) for span in re.findall(r"`((?:\.venv/bin/)?partner [^`]*)`", text)]
    commands = [normalise(line) for line in found]
    return list(dict.fromkeys(c for c in commands if len(c.split()) > 1))  # not "partner ..." in prose


def normalise(line: str) -> str:
    """A README line as typed: no comment, no [optional parts], the first of {a,b} choices, no '...'."""
    line = re.sub(r"\s+#.*$", "", line)
    line = re.sub(r"^\.venv/bin/", "", line)
    while re.search(r"\[[^\[\]]*\]", line):
        line = re.sub(r"\s*\[[^\[\]]*\]", "", line)
    line = re.sub(r"\{([^,{}]+),[^{}]*\}", r"\1", line)
    return " ".join(token for token in line.split() if token != "...")


def subcommand(command: str) -> str:
    return command.split()[1]


#: Run for real: they need no database, and the files they read are made first.
RUN_FOR_REAL = {
    "partner dictionary check",
    "partner dictionary classify --morphology 8370/3 --topography C74.0 --age-years 5",
    "partner dictionary classify --csv IN.csv --out OUT.csv",
    "partner identity encode IN.csv --out OUT.csv",
}
#: Run with --help (the command exists and takes every option the README gives it), and why not for real.
HELP_ONLY = {
    "dictionary": "load, export and from-redcap need a migrated registry or a REDCap file",
    "demo": "builds a registry of hundreds of patients (seconds to minutes)",
    "identity": "without a file it waits for input",
    "link": "compares the encodings of a migrated registry",
    "qc": "runs the rules over a migrated registry, or sends e-mail",
    "import": "needs a migrated registry and a national group's file",
    "export": "needs a migrated registry with cases",
    "hub": "needs a European hub answering and its token",
    "report": "needs a migrated registry with cases, and writes a PDF",
    "population": "needs a migrated registry and a population file",
    "datarequest": "needs a migrated registry with requests",
    "consult": "sends e-mail from a migrated registry",
    "token": "needs a migrated registry and its users",
    "backup": "needs a migrated registry",
    "restore": "needs a backup and an empty migrated registry",
    "check": "--deploy judges the settings of a deployment, not of the demo",
    "db_worker": "the worker of long work: it runs until it is stopped",
    "runserver": "serves the registry until it is stopped",
    "clearimports": "sweeps the files of a migrated registry",
}
README_TIMEOUT_HINT = "a README command ended with a traceback"
#: IN.csv of the README's commands that read one: codes to classify and identities to encode.
IDENTITIES_AND_CODES = (
    "morphology,topography,age_years,given_names,family_names,date_of_birth,sex,country_of_birth\n"
    "8370/3,C74.0,5,Anna,Rossi,2015-03-02,female,IT\n"
)


class ReadmeCommandTests(TestCase):
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())

    def test_it_finds_the_commands_of_the_readme(self) -> None:
        self.assertIn("partner dictionary check", self.commands)
        self.assertIn("partner export csv --out DIR", self.commands)
        self.assertGreater(len(self.commands), 20)

    def test_every_command_is_run_for_real_or_has_a_reason_not_to_be(self) -> None:
        unaccounted = [c for c in self.commands if c not in RUN_FOR_REAL and subcommand(c) not in HELP_ONLY]
        self.assertEqual(unaccounted, [], "add them to RUN_FOR_REAL, or to HELP_ONLY with a reason")
        self.assertEqual(RUN_FOR_REAL - set(self.commands), set(), "no longer in the README")

    def test_every_command_exists_and_takes_the_options_the_readme_gives_it(self) -> None:
        for command in self.commands:
            with self.subTest(command):
                args = shlex.split(command)[1:]
                run = partner([*args, "--help"], self.tmp, DEBUG="true")
                self.assertNotIn("Traceback", run.stderr, README_TIMEOUT_HINT)
                self.assertEqual(run.returncode, 0, run.stderr)
                for option in (a.split("=")[0] for a in args if a.startswith("--")):
                    self.assertIn(option, run.stdout, f"{command}: `--help` does not list {option}")

    def test_the_line_the_readme_gives_a_second_terminal_makes_partner_reach_the_demo_registry(self) -> None:
        text = (ROOT / "README.md").read_text(encoding="utf-8")
        start = text.split("## Start", 1)[1].split("\n## ", 1)[0]
        (line,) = [ln.strip() for ln in start.splitlines() if ln.strip().startswith("source ")]
        if not (ROOT / ".venv" / "bin" / "activate").exists():
            self.skipTest("no .venv here: `make run` makes it")
        env = {k: v for k, v in os.environ.items() if k not in (*SECRET_VARIABLES, "DEBUG", "DATABASE_URL")}
        env.update(PARTNER_VAR_DIR=str(self.tmp / "var"))
        env.pop("DJANGO_SETTINGS_MODULE", None)
        run = subprocess.run(
            ["bash", "-c", f"{line} && partner dictionary classify --morphology 8370/3 --topography C74.0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("ACC", run.stdout)

    def test_the_cheap_commands_run_for_real_as_typed(self) -> None:
        for command in sorted(RUN_FOR_REAL):
            with self.subTest(command):
                folder = Path(tempfile.mkdtemp(dir=self.tmp))
                (folder / "IN.csv").write_text(IDENTITIES_AND_CODES, encoding="utf-8")
                run = partner(shlex.split(command)[1:], folder, DEBUG="true")
                self.assertNotIn("Traceback", run.stderr, README_TIMEOUT_HINT)
                self.assertEqual(run.returncode, 0, run.stderr)
                if "--out" in command:
                    self.assertTrue((folder / "OUT.csv").read_text(encoding="utf-8"))

"""The production image's recipe, checked without a Docker engine: hadolint finds nothing to warn
about, the final stage runs as a non-root user with a health check and migrates before serving,
everything it copies from the build context is there (and not left out by .dockerignore), and the
entry point script does what the image relies on."""

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT_SCRIPT = ROOT / "scripts" / "docker-entrypoint"


# --- A small Dockerfile parser -------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str  # upper case, e.g. "COPY"
    arguments: str  # the rest of the instruction, continuation lines joined


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """Instructions in order: comments dropped, lines ending in a backslash joined to the next."""
    result: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # comments may sit inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, arguments = full.partition(" ")
            result.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a line continuation"
    return result


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=words[0], name=name))
        else:
            assert result, f"{instruction.keyword} before the first FROM"
            result[-1].instructions.append(instruction)
    return result


def command_words(arguments: str) -> list[str]:
    """The words of a CMD/ENTRYPOINT/RUN in exec (JSON) or shell form."""
    if arguments.startswith("["):
        return json.loads(arguments)
    return shlex.split(arguments)


@dataclass
class Copy:
    flags: dict[str, str]
    sources: list[str]
    destination: str


def parse_copy(arguments: str) -> Copy:
    flags: dict[str, str] = {}
    while arguments.startswith("--"):
        flag, _, arguments = arguments.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags[name] = value
        arguments = arguments.lstrip()
    words = command_words(arguments)
    assert len(words) >= 2, f"COPY needs a source and a destination: {arguments}"
    return Copy(flags, words[:-1], words[-1])


def final_stage() -> Stage:
    return stages(DOCKERFILE.read_text())[-1]


# --- .dockerignore, matched the way Docker matches it ---------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            regex += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end + 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.compile(regex + r"\Z")


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) in file order; a path's last matching rule decides."""
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((not negated, _pattern_regex(pattern)))
    return rules


def excluded(relative_path: str, rules) -> bool:
    """Whether Docker leaves the path out of the build context (a rule matching a parent counts)."""
    parts = relative_path.strip("/").split("/")
    result = False
    for excludes, regex in rules:
        if any(regex.match("/".join(parts[: n + 1])) for n in range(len(parts))):
            result = excludes
    return result


# --- Tests -------------------------------------------------------------------------------------


def hadolint_binary() -> str:
    next_to_python = str(Path(sys.executable).parent)
    found = shutil.which("hadolint") or shutil.which("hadolint", path=next_to_python)
    if not found:
        pytest.fail("hadolint is not installed: install the dev extras (pip install -e '.[dev]')")
    return found


def test_hadolint_has_no_warnings():
    result = subprocess.run(
        [hadolint_binary(), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_built_in_stages():
    assert len(stages(DOCKERFILE.read_text())) > 1


def test_the_final_stage_runs_as_a_user_that_is_not_root():
    users = final_stage().all("USER")
    assert users, "the final stage has no USER, so it runs as root"
    user = users[-1].arguments.split(":")[0]
    assert user not in {"root", "0"}


def test_the_final_stage_checks_healthz():
    checks = final_stage().all("HEALTHCHECK")
    assert checks and "/healthz" in checks[-1].arguments
    assert not checks[-1].arguments.upper().startswith("NONE")


def test_the_final_stage_exposes_port_8000():
    ports = [p.split("/")[0] for e in final_stage().all("EXPOSE") for p in e.arguments.split()]
    assert "8000" in ports


def test_the_final_stage_is_configured_for_production_by_default():
    env = " ".join(i.arguments for i in final_stage().all("ENV"))
    assert re.search(r"\bENVIRONMENT=production\b", env)


def start_command_text() -> str:
    """ENTRYPOINT and CMD of the final stage, with any script they name (copied from the build
    context into the image) replaced by its text, comment lines left out."""
    stage = final_stage()
    words: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        found = stage.all(keyword)
        if found:
            words += command_words(found[-1].arguments)
    copied = {}
    for instruction in stage.all("COPY"):
        copy = parse_copy(instruction.arguments)
        if "from" not in copy.flags and len(copy.sources) == 1:
            copied[copy.destination] = ROOT / copy.sources[0]
            copied[Path(copy.destination).name] = ROOT / copy.sources[0]
    parts = []
    for word in words:
        script = copied.get(word)
        if script is not None and script.is_file():
            lines = script.read_text().splitlines()
            parts.append("\n".join(line for line in lines if not line.lstrip().startswith("#")))
        else:
            parts.append(word)
    return "\n".join(parts)


def test_the_start_command_migrates_the_database_before_serving():
    text = start_command_text()
    migrate = re.search(r"alembic\s+upgrade\s+head", text)
    serve = re.search(r"\b(gunicorn|uvicorn)\b", text)
    assert migrate, f"no `alembic upgrade head` in the start command:\n{text}"
    assert serve, f"no gunicorn or uvicorn in the start command:\n{text}"
    assert migrate.start() < serve.start()


def context_copies() -> list[Copy]:
    return [
        copy
        for stage in stages(DOCKERFILE.read_text())
        for instruction in stage.all("COPY") + stage.all("ADD")
        if "from" not in (copy := parse_copy(instruction.arguments)).flags
    ]


def test_every_path_copied_from_the_build_context_exists():
    copies = context_copies()
    assert copies
    for copy in copies:
        matched = []
        for source in copy.sources:
            if any(c in source for c in "*?["):
                matched += list(ROOT.glob(source))
            else:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
                matched.append(ROOT / source)
        assert matched, f"nothing matches COPY {' '.join(copy.sources)}"


def test_dockerignore_keeps_what_the_image_copies():
    rules = dockerignore_rules()
    for copy in context_copies():
        for source in copy.sources:
            path = ROOT / source
            if not path.exists():  # a wildcard, or reported by the test above
                continue
            relative = path.relative_to(ROOT).as_posix()
            assert not excluded(relative, rules), f".dockerignore leaves out {source}"
            if path.is_dir():
                kept = [
                    f
                    for f in path.rglob("*")
                    if f.is_file() and not excluded(f.relative_to(ROOT).as_posix(), rules)
                ]
                assert kept, f".dockerignore leaves out everything in {source}"


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "node_modules/htmx.org/package.json",
        ".git/HEAD",
        "tests/conftest.py",
        "bench/run.py",
        "stem-portal.db",
        "stem-portal.db-wal",
        "app/__pycache__/main.cpython-311.pyc",
        ".pytest_cache/README.md",
        ".ruff_cache/CACHEDIR.TAG",
        ".env",
        "static/vendor/htmx.min.js",
    ],
)
def test_dockerignore_leaves_out_local_environments_tests_data_and_caches(path):
    assert excluded(path, dockerignore_rules())


def test_dockerignore_keeps_the_application():
    rules = dockerignore_rules()
    files = ["alembic.ini", "pyproject.toml", "package.json", "package-lock.json"]
    for folder in ("app", "migrations", "templates", "static", "translations"):
        files += [
            f.relative_to(ROOT).as_posix()
            for f in (ROOT / folder).rglob("*")
            if f.is_file() and "__pycache__" not in f.parts and "vendor" not in f.parts
        ]
    left_out = [path for path in files if excluded(path, rules)]
    assert not left_out, f".dockerignore leaves out {left_out}"


# --- The entry point script, run with stand-ins for alembic, uvicorn and other commands ----------


@pytest.fixture
def fake_commands(tmp_path):
    """A PATH where alembic, uvicorn and python only write their arguments to a log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    for name in ("alembic", "uvicorn", "gunicorn", "python"):
        script = bin_dir / name
        script.write_text(
            f'#!/bin/sh\necho "{name} $*" >> "{log}"\n'
            f'[ "{name}" != alembic ] || exit "${{ALEMBIC_EXIT:-0}}"\n'
        )
        script.chmod(0o755)

    def run(*args: str, **env: str) -> tuple[int, list[str]]:
        environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env}
        result = subprocess.run(
            [str(ENTRYPOINT_SCRIPT), *args], env=environment, capture_output=True, timeout=30
        )
        return result.returncode, log.read_text().splitlines() if log.exists() else []

    return run


def test_the_entry_point_script_is_executable_posix_shell():
    assert ENTRYPOINT_SCRIPT.stat().st_mode & stat.S_IXUSR
    assert ENTRYPOINT_SCRIPT.read_text().startswith("#!/bin/sh")
    subprocess.run(["sh", "-n", str(ENTRYPOINT_SCRIPT)], check=True)


def test_the_entry_point_migrates_then_serves_with_one_worker_per_core_by_default(fake_commands):
    code, log = fake_commands()
    assert code == 0
    assert log == [
        "alembic upgrade head",
        f"uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers {len(os.sched_getaffinity(0))}",
    ]


def test_the_entry_point_takes_the_worker_count_from_web_concurrency(fake_commands):
    code, log = fake_commands("serve", WEB_CONCURRENCY="2")
    assert code == 0
    assert log[-1] == "uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers 2"


def test_the_entry_point_does_not_serve_when_the_migration_fails(fake_commands):
    code, log = fake_commands(ALEMBIC_EXIT="3")
    assert code == 3
    assert log == ["alembic upgrade head"]


def test_the_entry_point_runs_other_commands_as_given(fake_commands):
    args = ("python", "-m", "app", "create-admin", "a@example.org", "--password", "p w")
    code, log = fake_commands(*args)
    assert code == 0
    assert log == ["python -m app create-admin a@example.org --password p w"]

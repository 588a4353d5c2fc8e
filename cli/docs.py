"""`upphandla definition docs`: the rule documentation and the lifecycle diagram, generated from the
shipped process definitions (`seeds/definitions/`).

`docs_app` is registered in `cli/main.py` under the `definition` group, without a name of its own
(`definition_app.add_typer(docs_app)`), so the command runs as `upphandla definition docs`.
`generate()` says what every generated file should contain; the command writes it, or with
`--check` only compares it with what is on disk.

Files, in the output directory:
  rules-<key>-v<version>.md   the rules of every version of every definition
  rules.md, lifecycle.mmd     the newest version (with several keys: rules-<key>.md and
                              lifecycle-<key>.mmd for each key's newest version)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upphandla.states.definition import Definition, DefinitionError
from upphandla.states.docs import lifecycle_mermaid, rules_markdown
from upphandla.states.parse import parse_definition
from upphandla.states.validation import Problem

docs_app = typer.Typer()

# Generated files that a removed definition version may leave behind.
_GENERATED_PATTERNS = ("rules-*-v*.md",)


def load_definitions() -> list[Definition]:
    """Every shipped definition file, parsed; raises SeedFileError or DefinitionError."""
    from upphandla.seeds.loader import definition_files, read_yaml

    out = []
    for file in definition_files():
        try:
            out.append(parse_definition(read_yaml(file)))
        except DefinitionError as exc:
            raise DefinitionError(
                [Problem(f"{file.name}: {p.path}", p.message) for p in exc.problems]
            ) from None
    return sorted(out, key=lambda d: (d.key, d.version))


def generate(out_dir: Path) -> dict[Path, str]:
    """Path → content of every generated file, for every shipped definition version."""
    definitions = load_definitions()
    files: dict[Path, str] = {}
    newest: dict[str, Definition] = {}
    for d in definitions:
        files[out_dir / f"rules-{d.key}-v{d.version}.md"] = rules_markdown(d)
        if d.key not in newest or d.version > newest[d.key].version:
            newest[d.key] = d
    for key, d in sorted(newest.items()):
        suffix = "" if len(newest) == 1 else f"-{key}"
        files[out_dir / f"rules{suffix}.md"] = rules_markdown(d)
        files[out_dir / f"lifecycle{suffix}.mmd"] = lifecycle_mermaid(d)
    return dict(sorted(files.items()))


def stale_files(expected: dict[Path, str], out_dir: Path) -> list[Path]:
    """Files that differ from what `generate` says, are missing, or are generated leftovers."""
    stale = [p for p, text in expected.items() if _read(p) != text]
    leftovers = {
        p for pattern in _GENERATED_PATTERNS for p in out_dir.glob(pattern) if p not in expected
    }
    return sorted({*stale, *leftovers})


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return None


@docs_app.command("docs")
def docs(
    out_dir: Annotated[Path, typer.Option(help="Katalog för de genererade filerna")] = Path("docs"),
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Skriv inget; avsluta med kod 1 och lista filerna som inte är aktuella"
        ),
    ] = False,
) -> None:
    """Generera regeldokumentationen och livscykeldiagrammet från processdefinitionerna."""
    from upphandla.seeds.loader import SeedFileError

    try:
        expected = generate(out_dir)
    except SeedFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(f"{p.path}: {p.message}", err=True)
        typer.echo("Processdefinitionen kan inte användas; inget är genererat.", err=True)
        raise typer.Exit(2) from None
    stale = stale_files(expected, out_dir)
    if check:
        if stale:
            for path in stale:
                typer.echo(f"inte aktuell: {path}", err=True)
            typer.echo(f"{len(stale)} filer är inte aktuella; kör `upphandla definition docs`.")
            raise typer.Exit(1)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in stale:
        if path in expected:
            path.write_text(expected[path], encoding="utf-8", newline="\n")
            typer.echo(f"skrev {path}")
        else:
            path.unlink()
            typer.echo(f"tog bort {path}")
    typer.echo(f"{len(expected)} filer i {out_dir}, {len(stale)} ändrade.")

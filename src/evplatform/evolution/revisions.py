"""Reading a workspace as it was at a git revision, without touching the work tree.

A side of a comparison is either a folder (read as it is) or a revision of the git repository
that holds the workspace: ``git archive REV -- <workspace path>`` is unpacked into a temporary
folder that lives as long as the ``open_side`` context (insights read ``scenarios.yaml`` lazily).
Git runs as a subprocess with a timeout; nothing is checked out, stashed or written in the repo.

Trims a change made invalid do not stop the loading: each is recorded with the loader's error
(file:line) and replaced by the closest valid configuration (``variability.completion.
minimal_change``: fewest features removed, then least added cost), so every other impact can still
be computed; the report says which trims were repaired and what the repair costs.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from evplatform.errors import EvplatformError, SourceError, VariabilityError, WorkspaceError
from evplatform.evolution.errors import EvolutionError, SideError
from evplatform.variability.model import Expr, FeatureModel, Not, Var
from evplatform.workspace.loader import OnInvalid, load_workspace
from evplatform.workspace.model import Market, Trim, Workspace
from evplatform.workspace.readers.features import read_feature_model
from evplatform.workspace.readers.platform import file_ref
from evplatform.workspace.sources import read_yaml_mapping

log = logging.getLogger(__name__)

GIT_TIMEOUT_S = 60.0
#: Largest archive of one workspace revision read into memory (a workspace is text files).
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InvalidConfiguration:
    """A trim × market whose configuration is not valid in this version, and its closest valid one."""

    trim: str
    market: str
    message: str
    file: str | None
    line: int | None
    requested: frozenset[str]
    closest: frozenset[str]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    cost_delta: float  # feature-attribute cost of the closest valid configuration − the requested one

    def to_dict(self) -> dict[str, object]:
        return {"trim": self.trim, "market": self.market, "error": self.message,
                "file": self.file, "line": self.line,
                "closest": {"added": list(self.added), "removed": list(self.removed),
                            "cost_delta": round(self.cost_delta, 2)}}


@dataclass(frozen=True)
class Side:
    """One loaded version: what the user named, the commit (None for a folder), the workspace."""

    name: str  # "before" or "after"
    label: str  # as given: a revision or a folder
    revision: str | None  # full commit id
    display_root: str  # "abc1234:path/to/ws" or the folder
    workspace: Workspace
    invalid: dict[tuple[str, str], InvalidConfiguration] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"side": self.name, "label": self.label, "revision": self.revision, "root": self.display_root,
                "platform": self.workspace.platform.name, "version": self.workspace.platform.version}


@dataclass(frozen=True, slots=True)
class Commit:
    revision: str
    date: str  # committer date, ISO 8601
    subject: str

    def to_dict(self) -> dict[str, str]:
        return {"revision": self.revision, "short": self.revision[:10], "date": self.date, "subject": self.subject}


def git(args: list[str], cwd: Path) -> bytes:
    """Run git; raise EvolutionError with its message on failure (never a shell, never the work tree)."""
    executable = shutil.which("git")
    if executable is None:
        raise EvolutionError("git is not installed (needed to read a workspace at a revision)")
    try:
        # an argument list, no shell; user-given revisions pass --verify/--end-of-options first
        done = subprocess.run([executable, *args], cwd=cwd, capture_output=True,  # noqa: S603
                              timeout=GIT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise EvolutionError(f"git {' '.join(args[:2])} took longer than {GIT_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        raise EvolutionError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout


def repository_of(folder: Path) -> tuple[Path, str] | None:
    """The git top level holding ``folder`` and the folder's path inside it, or None outside a repo."""
    if not folder.is_dir():
        return None
    try:
        top = git(["rev-parse", "--show-toplevel"], folder).decode().strip()
    except EvolutionError:
        return None
    root = Path(top).resolve()
    prefix = folder.resolve().relative_to(root).as_posix()
    return root, "" if prefix == "." else prefix


def resolve_revision(repo: Path, revision: str, side: str) -> str:
    """The full commit id a revision names; SideError when it names none."""
    if not revision or revision.startswith("-"):
        raise SideError(side, f"{revision!r} is not a revision")
    try:
        return git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
                   repo).decode().strip()
    except EvolutionError:
        raise SideError(side, f"unknown revision {revision!r} in the git repository {repo}") from None


def revisions(folder: Path, since: str | None = None, limit: int = 500) -> list[Commit]:
    """Commits that touched the workspace folder, oldest first (``since``: after that revision)."""
    found = repository_of(folder)
    if found is None:
        raise EvolutionError(f"{folder} is not inside a git repository")
    repo, prefix = found
    span = ["HEAD"] if since is None else [f"{resolve_revision(repo, since, 'since')}..HEAD"]
    out = git(["log", f"--max-count={limit}", "--format=%H%x1f%cI%x1f%s", *span, "--", prefix or "."], repo)
    commits = []
    for line in out.decode("utf-8", "replace").splitlines():
        sha, date, subject = line.split("\x1f", 2)
        commits.append(Commit(sha, date, subject))
    return commits[::-1]


def _extract(repo: Path, commit: str, prefix: str, dest: Path, side: str) -> Path:
    """Unpack the workspace folder of ``commit`` into ``dest``; the workspace root inside it."""
    spec = f"{commit}:{prefix}" if prefix else f"{commit}:"
    try:
        kind = git(["cat-file", "-t", spec], repo).decode().strip()
    except EvolutionError:
        kind = ""
    if kind != "tree":
        raise SideError(side, f"{prefix or '.'} does not exist at revision {commit[:10]}")
    data = git(["archive", "--format=tar", commit, "--", prefix or "."], repo)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise SideError(side, f"the workspace at {commit[:10]} is larger than {MAX_ARCHIVE_BYTES:,} bytes")
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter="data")
    root = dest / prefix if prefix else dest
    if not (root / "platform.yaml").is_file():
        raise SideError(side, f"{prefix or '.'} at revision {commit[:10]} is not a workspace (no platform.yaml)")
    return root


def _repairer(invalid: dict[tuple[str, str], InvalidConfiguration], side: str, shown: str, root: Path) -> OnInvalid:
    """The loader's ``on_invalid``: record the trim and carry on with its closest valid configuration."""

    def repair(fm: FeatureModel, trim: Trim, market: Market, error: WorkspaceError) -> frozenset[str]:
        requested = frozenset(fm.mandatory_closure(set(trim.selected) | set(market.select)) - trim.deselected)
        keep_out: list[Expr] = [Not(Var(f)) for f in sorted(trim.deselected) if f in fm.features]
        from evplatform.variability.completion import minimal_change  # OR-Tools: seconds to import, rarely needed

        try:
            done = minimal_change(fm, requested, keep_out, attribute="cost")
        except VariabilityError as why:
            raise SideError(side, f"trim {trim.key} in market {market.id} has no valid configuration: {why}",
                            _shown_file(error.file, root, shown), error.line) from None
        invalid[(trim.key, market.id)] = InvalidConfiguration(
            trim=trim.key, market=market.id, message=error.message, file=_shown_file(error.file, root, shown),
            line=error.line, requested=requested, closest=done.selected, added=tuple(sorted(done.added)),
            removed=tuple(sorted(done.removed)),
            cost_delta=fm.attribute_sum(done.selected, "cost") - fm.attribute_sum(requested, "cost"))
        return done.selected

    return repair


def _shown_file(file: str | None, root: Path, shown: str) -> str | None:
    """A file inside a temporary export as ``REV:path`` (what the user can open with ``git show``)."""
    if file is None:
        return None
    try:
        return shown + Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file


def load_side(root: Path, name: str, label: str, revision: str | None, shown: str) -> Side:
    """Load one version leniently; SideError (naming the side and file:line) when it does not load.

    ``shown`` prefixes file names in messages: ``abc1234:ws/`` for a revision, ``folder/`` for a folder.
    """
    invalid: dict[tuple[str, str], InvalidConfiguration] = {}
    try:
        ws = load_workspace(root, on_invalid=_repairer(invalid, name, shown, root))
    except SideError as error:
        error.feature_model = _feature_model_alone(root)
        raise
    except SourceError as error:
        raise SideError(name, f"the workspace does not load: {error.message}",
                        _shown_file(error.file, root, shown), error.line, _feature_model_alone(root)) from None
    except EvplatformError as error:
        raise SideError(name, f"the workspace does not load: {error}",
                        feature_model=_feature_model_alone(root)) from None
    return Side(name, label, revision, shown.rstrip("/"), ws, invalid)


def _feature_model_alone(root: Path) -> FeatureModel | None:
    """The workspace's feature model read on its own (None when it does not read either)."""
    try:
        platform_file = root / "platform.yaml"
        spec = read_yaml_mapping(platform_file, "platform.yaml")
        return read_feature_model(root / file_ref(spec, "features", "features.uvl", platform_file))
    except EvplatformError:
        return None


@contextmanager
def open_side(spec: str | None, workspace: Path, name: str) -> Iterator[Side]:
    """A side named by ``spec``: an existing folder, a revision of ``workspace``'s repository, or
    None for the workspace folder as it is now. The temporary export is removed on exit."""
    if spec is None or Path(spec).is_dir():
        folder = workspace if spec is None else Path(spec)
        yield load_side(folder, name, str(folder), None, f"{folder}/")
        return
    found = repository_of(workspace)
    if found is None:
        raise SideError(name, f"{spec!r} is not a folder, and {workspace} is not inside a git repository "
                              "to read it as a revision from")
    repo, prefix = found
    commit = resolve_revision(repo, spec, name)
    shown = f"{commit[:10]}:{prefix}/" if prefix else f"{commit[:10]}:"
    with tempfile.TemporaryDirectory(prefix="evplatform-rev-") as tmp:
        root = _extract(repo, commit, prefix, Path(tmp), name)
        log.info("%s: %s exported to %s", name, shown, tmp)
        yield load_side(root, name, spec, commit, shown)

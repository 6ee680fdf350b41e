"""GraphiQL's third-party files, pinned: where they live, their checksums, how to refresh.

Court intranets have no internet, so the page loads nothing from a CDN: React, GraphiQL and
its explorer plugin are copied unchanged from their npm packages into
``gateway/console/static/vendor/<name>@<version>/``, with each package's licence. ``ASSETS.json``
there pins each version and each file's SHA-384 (the same sub-resource integrity values the
public CDN builds carry). ``python -m gateway.console.assets`` (``make graphiql-assets``)
fetches the packages with ``npm pack`` and rewrites the folder after checking every file;
``--update`` takes the checksums of new versions written into the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VENDOR_DIR", "Asset", "integrity", "pinned_assets", "verify"]

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "ASSETS.json"


@dataclass(frozen=True, slots=True)
class Asset:
    """One pinned file: its package, the path inside it, and its SHA-384 integrity."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def folder(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def url_path(self) -> str:
        """Path under the assets route, e.g. ``react@18.2.0/umd/react.production.min.js``."""
        return f"{self.folder}/{self.path}"


def integrity(data: bytes) -> str:
    """The sub-resource integrity value of ``data`` (``sha384-<base64>``)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _manifest() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def pinned_assets() -> list[Asset]:
    """Every pinned file, in manifest order."""
    packages = _manifest()["packages"]
    assert isinstance(packages, list)
    return [
        Asset(pkg["name"], pkg["version"], path, sri)
        for pkg in packages
        for path, sri in pkg["files"].items()
    ]


def verify(root: Path = VENDOR_DIR) -> list[str]:
    """The problems with the files under ``root``: missing or not matching their pin."""
    problems = []
    for asset in pinned_assets():
        file = root / asset.url_path
        if not file.is_file():
            problems.append(f"{asset.url_path}: missing")
        elif integrity(file.read_bytes()) != asset.integrity:
            problems.append(f"{asset.url_path}: checksum differs from ASSETS.json")
    return problems


def _members(archive: tarfile.TarFile, wanted: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    for name in wanted:
        member = archive.extractfile(f"package/{name}")
        if member is None:
            raise SystemExit(f"{name}: not a file in the package")
        yield name, member.read()


def refresh(update: bool = False) -> int:
    """Fetch every pinned package with ``npm pack`` and rewrite the vendor folder."""
    manifest = _manifest()
    packages = manifest["packages"]
    assert isinstance(packages, list)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "vendor"
        for pkg in packages:
            spec = f"{pkg['name']}@{pkg['version']}"
            out = subprocess.run(  # noqa: S603 - npm with a pinned spec from our manifest
                ["npm", "pack", spec, "--silent", "--pack-destination", tmp],  # noqa: S607
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
            with tarfile.open(Path(tmp) / out) as archive:
                names = archive.getnames()
                licence = [n[len("package/") :] for n in names if n.startswith("package/LICENSE")]
                for name, data in _members(archive, [*pkg["files"], *licence]):
                    if name in pkg["files"]:
                        if update:
                            pkg["files"][name] = integrity(data)
                        elif integrity(data) != pkg["files"][name]:
                            raise SystemExit(f"{spec} {name}: checksum differs from ASSETS.json")
                    target = staged / spec / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            if not licence:  # some packages ship their licence only in package.json
                note = f"{spec} is published under the {pkg['license']} licence (package.json).\n"
                (staged / spec / "LICENSE").write_text(note, encoding="utf-8")
        for old in VENDOR_DIR.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
        shutil.copytree(staged, VENDOR_DIR, dirs_exist_ok=True)
    if update:
        MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    problems = verify()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(refresh(update="--update" in sys.argv[1:]))

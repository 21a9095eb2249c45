"""Submission intake: what is accepted, and the reason a candidate reads when it is not."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from worksample.graders._intake import (
    IntakeLimits,
    Submission,
    SubmissionRejected,
    read_directory,
    read_submission,
    read_zip,
)

REGULAR = 0o100644


@dataclass
class Member:
    """One entry of a hand-made zip; every field a standard tool would get right can lie."""

    name: bytes | str
    data: bytes = b"print('hi')\n"
    method: int = zipfile.ZIP_DEFLATED
    mode: int = REGULAR
    flags: int = 0
    declared_size: int | None = None
    crc: int | None = None
    compressed: bytes | None = None  # raw member data, instead of compressing `data`
    same_offset_as: int | None = None  # central entry points at another member's header
    extra_compressed_size: int = 0


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def craft_zip(*members: Member) -> bytes:
    """A zip written byte by byte, so it can hold what `zipfile` refuses to write."""
    out, central, offsets = bytearray(), bytearray(), []
    for member in members:
        name = member.name.encode() if isinstance(member.name, str) else member.name
        if member.compressed is not None:
            payload = member.compressed
        elif member.method == zipfile.ZIP_DEFLATED:
            payload = deflate(member.data)
        else:
            payload = member.data
        size = len(member.data) if member.declared_size is None else member.declared_size
        crc = zlib.crc32(member.data) if member.crc is None else member.crc
        offsets.append(len(out))
        offset = offsets[-1] if member.same_offset_as is None else offsets[member.same_offset_as]
        stored, listed = len(payload), len(payload) + member.extra_compressed_size
        common = "<HHHHIIIHH", member.flags, member.method, 0, 0x21, crc  # time 0, 1980-01-01
        out += struct.pack("<IH", 0x04034B50, 20) + struct.pack(*common, stored, size, len(name), 0)
        out += name + payload
        central += struct.pack("<IHH", 0x02014B50, 0x0314, 20)  # made by Unix, needs 2.0
        central += struct.pack(*common, listed, size, len(name), 0)
        central += struct.pack("<HHHII", 0, 0, 0, member.mode << 16, offset) + name
    count = len(members)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def make_zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def reason_for(archive: bytes, limits: IntakeLimits | None = None) -> str:
    with pytest.raises(SubmissionRejected) as caught:
        read_zip(archive, limits or IntakeLimits())
    assert str(caught.value) == f"rejected: {caught.value.reason}"
    return caught.value.reason


SOLUTION = {
    "solution.py": b"def solve():\n    return 42\n",
    "tests/test_a.py": b"assert True\n",
    "data/table.csv": b"a,b\n1,2\n" * 50,
}


# --- accepted -------------------------------------------------------------------------------


def test_a_plain_zip_gives_its_files() -> None:
    submission = read_zip(make_zip(SOLUTION))
    assert submission.files == SOLUTION
    assert list(submission.files) == sorted(SOLUTION)
    assert submission.total_bytes == sum(map(len, SOLUTION.values()))
    assert len(submission.sha256) == 64
    # Repetitive but small: under the ratio floor, so not taken for a bomb.
    assert read_zip(make_zip({"zeros.txt": bytes(500_000)})).total_bytes == 500_000


def test_the_same_files_hash_the_same_whatever_order_method_or_source(tmp_path: Path) -> None:
    forwards = read_zip(make_zip(SOLUTION))
    backwards = read_zip(make_zip(dict(reversed(SOLUTION.items())), zipfile.ZIP_STORED))
    wrapped = read_zip(make_zip({f"my-solution/{k}": v for k, v in SOLUTION.items()}))
    for name, data in SOLUTION.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    folder = read_directory(tmp_path)
    assert forwards.sha256 == backwards.sha256 == wrapped.sha256 == folder.sha256
    assert read_zip(make_zip({**SOLUTION, "extra.py": b""})).sha256 != forwards.sha256
    assert read_zip(make_zip({"a": b"bc"})).sha256 != read_zip(make_zip({"ab": b"c"})).sha256


def test_a_wrapping_folder_is_stripped_once_and_junk_is_dropped() -> None:
    archive = make_zip(
        {
            "my-solution/": b"",
            "my-solution/src/": b"",
            "my-solution/src/app.py": b"x = 1\n",
            "my-solution/README.md": b"# hi\n",
            "my-solution/.DS_Store": b"\0\0",
            "my-solution/src/__pycache__/app.cpython-311.pyc": b"\0",
            "my-solution/src/app.pyc": b"\0",
            "my-solution/.git/HEAD": b"ref: refs/heads/main\n",
            "my-solution/.gitignore": b"*.pyc\n",
            "__MACOSX/my-solution/._README.md": b"\0",
        }
    )
    assert set(read_zip(archive).files) == {"src/app.py", "README.md", ".gitignore"}
    assert set(read_zip(make_zip({"outer/src/app.py": b""})).files) == {"src/app.py"}
    assert set(read_zip(make_zip({"a/x.py": b"", "b/y.py": b""})).files) == {"a/x.py", "b/y.py"}


def test_read_submission_takes_a_zip_file_or_a_folder(tmp_path: Path) -> None:
    (tmp_path / "upload.zip").write_bytes(make_zip(SOLUTION))
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "solution.py").write_bytes(b"pass\n")
    assert read_submission(tmp_path / "upload.zip").files == SOLUTION
    assert read_submission(tmp_path / "folder").files == {"solution.py": b"pass\n"}
    with (tmp_path / "upload.zip").open("rb") as stream:
        assert read_zip(stream).files == SOLUTION


def test_limits_are_frozen_and_strict() -> None:
    with pytest.raises(ValueError):
        IntakeLimits(max_members=0)
    with pytest.raises(ValueError):
        IntakeLimits(max_files=3)  # type: ignore[call-arg]
    assert "files" not in repr(Submission.from_files({"a": b"x" * 10}))


# --- where the tree starts: the exercise's required paths -----------------------------------

REQUIRED = ("solution/__main__.py",)
PACKAGE = {
    "solution/__init__.py": b"",
    "solution/__main__.py": b"from solution.cli import main\nraise SystemExit(main())\n",
    "solution/cli.py": b"def main():\n    return 0\n",
}


def test_a_zip_of_the_solution_folder_alone_keeps_the_folder() -> None:
    # What `zip -r s.zip solution` makes: one top-level folder, which is the package.
    archive = make_zip({"solution/": b"", **PACKAGE})
    assert read_zip(archive, required=REQUIRED).files == PACKAGE
    # Without required paths the older rule holds: one wrapping folder is stripped.
    assert set(read_zip(archive).files) == {"__init__.py", "__main__.py", "cli.py"}


def test_a_github_download_zip_is_stripped_to_the_repository() -> None:
    archive = make_zip(
        {
            **{f"churn-main/{k}": v for k, v in PACKAGE.items()},
            "churn-main/README.md": b"# churn\n",
            "churn-main/.gitignore": b"models/\n",
        }
    )
    files = read_zip(archive, required=REQUIRED).files
    assert files == {**PACKAGE, "README.md": b"# churn\n", ".gitignore": b"models/\n"}


def test_a_zip_of_the_kit_folder_is_stripped_to_its_contents() -> None:
    kit = {
        **PACKAGE,
        "data/train.csv": b"customer_id,churned\n1,0\n",
        "tests/test_public.py": b"",
        "conftest.py": b'pytest_plugins = ("worksample.graders.plugin",)\n',
        "worksample.toml": b'id = "ml-churn-pipeline"\n',
        "DESIGN.md": b"# Design\n",
    }
    archive = make_zip(
        {
            **{f"ml-churn-pipeline/{k}": v for k, v in kit.items()},
            "ml-churn-pipeline/.DS_Store": b"\0",
            "__MACOSX/ml-churn-pipeline/._DESIGN.md": b"\0",
        }
    )
    submission = read_zip(archive, required=REQUIRED)
    assert submission.files == kit
    # The same tree, however it was wrapped: the grader sees identical submissions.
    github = make_zip({f"churn-main/{k}": v for k, v in kit.items()})
    assert read_zip(github, required=REQUIRED).sha256 == submission.sha256


def required_reason(files: dict[str, bytes], required: tuple[str, ...] = REQUIRED) -> str:
    with pytest.raises(SubmissionRejected) as caught:
        read_zip(make_zip(files), required=required)
    assert caught.value.member is None
    return caught.value.reason


def test_a_zip_without_the_required_paths_is_refused_with_what_it_holds() -> None:
    reason = required_reason({"src/app.py": b"", "README.md": b"", "src/util.py": b""})
    assert reason == (
        'The submission must contain "solution/__main__.py" at its top level (or inside one '
        'folder that wraps everything), but its top level holds "README.md" and "src/". Zip '
        "the starter kit's folder with your work in it."
    )
    # Wrapped once: the wrapping folder's contents are listed too.
    reason = required_reason({"churn-main/src/app.py": b"", "churn-main/README.md": b""})
    assert 'its top level holds "churn-main/", which holds "README.md" and "src/". Zip' in reason
    # Wrapped twice (a zip of Downloads/): not stripped further; the candidate sees why.
    reason = required_reason({f"Downloads/ml-churn-pipeline/{k}": v for k, v in PACKAGE.items()})
    assert '"Downloads/", which holds "ml-churn-pipeline/"' in reason
    # The package without its entry point is not the package.
    reason = required_reason({"solution/__init__.py": b"", "solution/cli.py": b""})
    assert 'its top level holds "solution/", which holds "__init__.py" and "cli.py"' in reason


def test_the_refusal_names_every_required_path_and_caps_and_escapes_the_listing() -> None:
    many = {f"file{index:02}.py": b"" for index in range(14)} | {"odd\u200bname.py": b""}
    reason = required_reason(many, ("solution.py", "data/a.csv", "run.sh"))
    assert reason.startswith(
        'The submission must contain "solution.py", "data/a.csv" and "run.sh" at its top'
    )
    assert '"file00.py", "file01.py",' in reason and '"file09.py" and 5 more.' in reason
    assert "file10.py" not in reason
    shown = required_reason({"odd\u200bname.py": b""})
    assert 'holds "odd\\x200bname.py".' in shown


def test_required_paths_apply_to_folders_and_read_submission_alike(tmp_path: Path) -> None:
    for name, data in PACKAGE.items():
        for root in (tmp_path / "as-is", tmp_path / "wrapped" / "ml-churn-pipeline"):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    assert read_directory(tmp_path / "as-is", required=REQUIRED).files == PACKAGE
    assert read_directory(tmp_path / "wrapped", required=REQUIRED).files == PACKAGE
    assert read_submission(tmp_path / "wrapped", required=REQUIRED).files == PACKAGE
    # Without required paths a folder is kept as it is, as before.
    assert set(read_directory(tmp_path / "wrapped").files) == {
        f"ml-churn-pipeline/{name}" for name in PACKAGE
    }
    (tmp_path / "upload.zip").write_bytes(make_zip({"solution/": b"", **PACKAGE}))
    assert read_submission(tmp_path / "upload.zip", required=REQUIRED).files == PACKAGE
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "main.py").write_bytes(b"")
    with pytest.raises(SubmissionRejected, match=r'its top level holds "main\.py"\. Zip the'):
        read_submission(tmp_path / "other", required=REQUIRED)
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    (tmp_path / "empty" / ".git" / "HEAD").write_bytes(b"ref\n")
    with pytest.raises(SubmissionRejected, match="The submission holds no files"):
        read_directory(tmp_path / "empty", required=REQUIRED)
    with pytest.raises(SubmissionRejected, match="The submission holds no files"):
        read_zip(make_zip({"__MACOSX/._x": b""}), required=REQUIRED)


# --- refused: not a zip ---------------------------------------------------------------------


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("solution.py")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"pass"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, bz2.compress, lzma.compress, bytes],
    ids=["tar.gz", "tar.bz2", "tar.xz", "tar"],
)
def test_tar_archives_are_refused_by_their_magic_bytes(compress: Callable[[bytes], bytes]) -> None:
    reason = reason_for(compress(tar_bytes()))
    assert (
        "Tar archives are not accepted because their extraction has had repeated security "
        "bypasses; please upload a zip instead." in reason
    )


@pytest.mark.parametrize(
    ("archive", "expected"),
    [
        (os.urandom(4096), "The upload is not a zip archive; please upload a zip file."),
        (b"", "The upload is not a zip archive; please upload a zip file."),
        (b"Rar!\x1a\x07\x01\x00" + bytes(64), "The upload is a RAR archive; please upload a zip"),
        (b"PK\x03\x04" + bytes(100), "The upload is not a zip archive; it may be truncated."),
        (make_zip({}), "The archive is empty."),
        (make_zip({"empty/": b"", "__MACOSX/._x": b""}), "The submission holds no files"),
        (b"#!/bin/sh\n" + make_zip(SOLUTION), "The upload is not a zip archive"),
    ],
    ids=["random", "nothing", "rar", "truncated", "empty", "only-junk", "self-extracting"],
)
def test_what_is_not_a_usable_zip_is_refused(archive: bytes, expected: str) -> None:
    assert reason_for(archive).startswith(expected)


# --- refused: names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.py", '"../evil.py" escapes the submission folder.'),
        ("src/../../evil.py", '"src/../../evil.py" escapes the submission folder.'),
        ("/etc/cron.d/evil", '"/etc/cron.d/evil" is an absolute path; paths must be relative'),
        ("C:/Windows/evil.py", '"C:/Windows/evil.py" starts with a drive letter'),
        (b"ok.py\x00.txt", '"ok.py\\x00.txt" has a NUL character in its name.'),
        (
            "src\\main.py",
            "\"src\\main.py\" has a backslash in its name; folders must be separated by '/'.",
        ),
        ("bad\nname.py", '"bad\\x0aname.py" has a control character in its name.'),
        ("/".join(["d"] * 25) + ".py", "is nested deeper than 20 folders."),
        ("x" * 300 + ".py", "has a path longer than 255 bytes."),
        (".", '"." has an empty name.'),
    ],
)
def test_unsafe_names_are_refused_naming_the_member(name: str | bytes, expected: str) -> None:
    assert expected in reason_for(craft_zip(Member("ok.py"), Member(name)))


def test_names_that_collide_are_refused() -> None:
    assert reason_for(craft_zip(Member("a/b.py"), Member("a/b.py"))) == (
        '"a/b.py" appears twice in the archive.'
    )
    assert reason_for(craft_zip(Member("a/b.py"), Member("a/./b.py"))) == (
        '"a/./b.py" and "a/b.py" name the same file.'
    )
    assert reason_for(make_zip({"README.md": b"1", "readme.md": b"2"})) == (
        '"readme.md" and "README.md" differ only in letter case or Unicode form, so they '
        "would overwrite each other on macOS and Windows; rename one."
    )
    assert reason_for(make_zip({"lib": b"1", "lib/x.py": b"2"})) == (
        '"lib" is a file but "lib/x.py" uses it as a folder.'
    )


# --- refused: member kinds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (
            Member("link.py", b"/etc/passwd", mode=0o120777),
            '"link.py" is a symbolic link; replace it with the file itself.',
        ),
        (
            Member("fifo", b"", mode=0o010644),
            '"fifo" is a special file (device, FIFO or socket); only regular files are accepted.',
        ),
        (
            Member("secret.py", flags=0x1),
            '"secret.py" is encrypted; upload an archive without a password.',
        ),
        (
            Member("odd.py", method=12, compressed=b"BZh9"),
            '"odd.py" uses compression method 12 (bzip2), which is not accepted; re-create the '
            "zip with the standard deflate method.",
        ),
    ],
    ids=["symlink", "fifo", "encrypted", "bzip2"],
)
def test_members_that_are_not_plain_files_are_refused(member: Member, expected: str) -> None:
    assert reason_for(craft_zip(Member("ok.py"), member)) == expected


# --- refused: tampered structure ------------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [Member("b.py", same_offset_as=0), Member("b.py")],
    ids=["shared-header", "data-into-next-header"],
)
def test_entries_whose_data_overlap_are_refused(second: Member) -> None:
    first = Member("a.py", extra_compressed_size=0 if second.same_offset_as == 0 else 10)
    assert reason_for(craft_zip(first, second)) == (
        '"b.py" overlaps "a.py" inside the archive, a trick used by zip bombs; re-create the '
        "zip with a standard tool."
    )


X100 = b"x" * 100


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (Member("lie.py", X100, declared_size=10), "it holds more than the 10 bytes its header"),
        (Member("lie.py", X100, declared_size=1000), "it holds 100 bytes but its header declares"),
        (Member("lie.py", X100, method=0, declared_size=50), "it holds more than the 50 bytes"),
        (Member("lie.py", crc=1234), "its checksum does not match its contents"),
        (Member("lie.py", compressed=deflate(b"abc")[:-2]), "its compressed data ends early"),
        (Member("lie.py", compressed=b"\xff" * 20), "its compressed data is corrupt (Error -3"),
        (Member("lie.py", b"abc", compressed=deflate(b"abc") + b"!"), "its compressed size"),
    ],
    ids=["bigger", "smaller", "stored-bigger", "crc", "truncated", "garbage", "trailing"],
)
def test_members_whose_headers_lie_are_refused(member: Member, problem: str) -> None:
    reason = reason_for(craft_zip(member))
    assert reason.startswith(f'"lie.py" is damaged: {problem}')
    assert reason.endswith("; re-create the zip with a standard tool.")


def test_a_local_name_differing_from_the_central_one_is_refused() -> None:
    archive = craft_zip(Member("good.py"))
    archive = archive.replace(b"good.py", b"evil.py", 1)  # the local header comes first
    assert "its two recorded names differ" in reason_for(archive)


# --- refused: sizes -------------------------------------------------------------------------


def test_a_high_ratio_bomb_is_refused() -> None:
    reason = reason_for(craft_zip(Member("bomb.txt", bytes(10 << 20))))
    assert reason == (
        '"bomb.txt" expands more than 100 times when decompressed, which looks like a zip '
        "bomb; leave it out."
    )


def test_a_gigabyte_bomb_is_stopped_while_streaming() -> None:
    # 1 GiB of zeros as 1024 independent deflate blocks of 1 MiB: about 1 MiB compressed.
    # The header tells the truth; only reading can tell the file is too big, and reading
    # it all would take seconds and a gigabyte of memory.
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = block * 1024 + packer.flush()
    gib = 1 << 30
    archive = craft_zip(Member("bomb.bin", b"", compressed=stream, declared_size=gib, crc=0))
    assert reason_for(archive) == (
        '"bomb.bin" is larger than the 20 MiB limit for one file; leave it out.'
    )


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (
            IntakeLimits(max_archive_bytes=500),
            "The archive is larger than the 500 bytes limit; leave out data sets, virtual "
            "environments and build output.",
        ),
        (
            IntakeLimits(max_members=2),
            "The archive holds more than 2 entries; leave out generated folders such as .git, "
            "node_modules or virtual environments.",
        ),
        (
            IntakeLimits(max_file_bytes=300),
            '"data/table.csv" is larger than the 300 bytes limit for one file; leave it out.',
        ),
        (
            IntakeLimits(max_total_bytes=400),
            '"data/table.csv" takes the submission over the 400 bytes limit for all files '
            "together; leave out data sets and build output.",
        ),
    ],
    ids=["archive", "members", "file", "total"],
)
def test_size_limits_are_enforced(limits: IntakeLimits, expected: str) -> None:
    assert reason_for(make_zip(SOLUTION, zipfile.ZIP_STORED), limits) == expected


def test_a_central_directory_of_millions_is_refused_before_it_is_parsed() -> None:
    entry = craft_zip(Member("a"))
    start = entry.index(b"PK\x01\x02")
    local, record = entry[:start], entry[start:-22]
    many = local + record * 200_000
    count = min(200_000, 0xFFFF)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(record) * 200_000, len(local), 0
    )
    assert reason_for(many + end).startswith("The archive holds more than 2000 entries")


# --- folders --------------------------------------------------------------------------------


def test_a_folder_gives_its_files_without_junk(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "m.py").write_bytes(b"x = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_bytes(b"ref\n")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    submission = read_directory(tmp_path)
    assert submission.files == {"pkg/m.py": b"x = 1\n"}


def test_symlinks_and_special_files_in_a_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "secrets.py").symlink_to("/etc/passwd")
    with pytest.raises(SubmissionRejected) as caught:
        read_directory(tmp_path)
    assert caught.value.reason == (
        '"src/secrets.py" is a symbolic link; replace it with the file itself.'
    )
    assert caught.value.member == "src/secrets.py"
    (tmp_path / "src" / "secrets.py").unlink()
    os.mkfifo(tmp_path / "src" / "pipe")
    with pytest.raises(SubmissionRejected, match=r'"src/pipe" is a special file \(device, FIFO'):
        read_directory(tmp_path)


def test_folder_limits_and_case_collisions(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(bytes(2000))
    with pytest.raises(SubmissionRejected, match=r'"big\.bin" is larger than the 1000 bytes'):
        read_directory(tmp_path, IntakeLimits(max_file_bytes=1000))
    for index in range(5):
        (tmp_path / f"f{index}.py").write_bytes(b"")
    with pytest.raises(SubmissionRejected, match="The folder holds more than 3 files"):
        read_directory(tmp_path, IntakeLimits(max_members=3))
    (tmp_path / "F0.py").write_bytes(b"")
    with pytest.raises(SubmissionRejected, match=r'"f0\.py" and "F0\.py" differ only in letter'):
        read_directory(tmp_path)

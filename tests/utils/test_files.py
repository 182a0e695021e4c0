"""Safe files: a long legal name is writable, temporary files fit the file system's limit."""

import os

from lenet.utils.files import atomic_write, check_writable, folder_lock, move_aside


def test_a_244_character_name_can_be_written_and_checked(tmp_path):
    target = tmp_path / ("x" * 240 + ".npz")
    check_writable(target)
    with atomic_write(target) as f:
        f.write(b"data")
    assert target.read_bytes() == b"data"
    assert move_aside(target) == tmp_path / ("x" * 240 + ".1.npz")


def test_a_255_byte_multibyte_name_can_be_written(tmp_path):
    target = tmp_path / ("é" * 125 + ".npz")  # 254 bytes in UTF-8
    with atomic_write(target) as f:
        f.write(b"data")
    assert os.listdir(tmp_path) == [target.name]


def test_a_stale_temporary_file_of_a_long_name_is_removed(tmp_path):
    target = tmp_path / ("y" * 250)
    with atomic_write(target) as f:
        f.write(b"first")
    stem = "y" * (255 - 22)  # what atomic_write keeps of the name
    dead = tmp_path / f".{stem}.9999999.abcd1234.tmp"  # above any pid_max: no such process
    dead.write_bytes(b"half")
    with atomic_write(target) as f:
        f.write(b"second")
    assert os.listdir(tmp_path) == [target.name]


def test_the_folder_lock_leaves_nothing_behind(tmp_path):
    with folder_lock(tmp_path):
        (tmp_path / "inside").write_text("written while locked")
    assert os.listdir(tmp_path) == ["inside"]

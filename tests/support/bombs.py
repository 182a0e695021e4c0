"""Files of megabytes that unpack to gigabytes, written without ever holding the gigabytes.

Both repeat one deflate block of 16 MiB of zeros: after a full flush the compressor starts
afresh, so every such block compresses to the same bytes (about 16 kB).
"""

import struct
import zlib

CHUNK = bytes(2**24)


def _deflated(prefix, zeros):
    """(raw deflate pieces: head, block, tail, block count, crc32) of prefix + zeros."""
    if zeros % len(CHUNK):
        raise ValueError(f"zeros must be a multiple of {len(CHUNK)}, got {zeros}")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(CHUNK) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(zeros // len(CHUNK)):
        crc = zlib.crc32(CHUNK, crc)
    return head, block, tail, zeros // len(CHUNK), crc


def write_gzip_of_zeros(path, prefix, zeros):
    """A gzip file of prefix then `zeros` zero bytes (a multiple of 2**24)."""
    head, block, tail, count, crc = _deflated(prefix, zeros)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + head)
        for _ in range(count):
            f.write(block)
        f.write(tail + struct.pack("<II", crc, (len(prefix) + zeros) % 2**32))


def write_zip_with_zeros(path, members, name, prefix, zeros):
    """A zip (zip64) archive of members {name: bytes} (stored) and one deflated member `name`
    holding prefix then `zeros` zero bytes (a multiple of 2**24)."""
    central = []
    with open(path, "wb") as f:
        for member, content in members.items():
            central.append(_member(f, member, 0, zlib.crc32(content), len(content), [content]))
        head, block, tail, count, crc = _deflated(prefix, zeros)
        pieces = [head, *[block] * count, tail]
        central.append(_member(f, name, 8, crc, len(prefix) + zeros, pieces))
        start = f.tell()
        f.write(b"".join(central))
        end = f.tell()
        n = len(central)
        f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, end - start, start))
        f.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0))


def _member(f, name, method, crc, size, pieces):
    """Write one member's local header and data at f's position; its central directory entry."""
    offset, name = f.tell(), name.encode()
    compressed = sum(map(len, pieces))
    extra = struct.pack("<HHQQ", 1, 16, size, compressed)
    f.write(
        struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc, 2**32 - 1,
                    2**32 - 1, len(name), len(extra)) + name + extra
    )  # fmt: skip
    for piece in pieces:
        f.write(piece)
    extra = struct.pack("<HHQQQ", 1, 24, size, compressed, offset)
    return (
        struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc,
                    2**32 - 1, 2**32 - 1, len(name), len(extra), 0, 0, 0, 0, 2**32 - 1)
        + name + extra
    )  # fmt: skip

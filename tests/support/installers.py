"""Installer-shaped bytes for the download tests."""

from __future__ import annotations

import hashlib
import struct


def pe_bytes(size: int) -> bytes:
    """A minimal Windows executable: MZ header, PE signature at e_lfanew=64, one section
    whose raw data runs from byte 512 to the end of the file."""
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 0, 0x22)
    section = struct.pack("<8sIIIIIIHHI", b".text", 0x1000, 0x1000, size - 512, 512, 0, 0, 0,
                          0, 0x60000020)
    head = bytes(dos) + coff + section
    return head + bytes(512 - len(head)) + hashlib.sha256(b"pe").digest() * ((size - 512) // 32)


EXE_DATA = pe_bytes(512 + 32 * 4096)

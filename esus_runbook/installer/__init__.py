"""The PEC installer: its names (:mod:`.naming`), the release registry (:mod:`.releases`), the
team's trust policy for it (:mod:`.trust`), the verification of a file (:mod:`.verify`) and
the resumable download (:mod:`.transfer`, :mod:`.downloader`). See docs/download.md.

The names below are the package's public interface, used by the download and installation
stages and the command line.
"""

from .downloader import DownloadOutcome, download, quarantine
from .naming import expected_name, parse_installer_name
from .releases import Registry, Release, default_team_file, read_registry_file, version_tuple
from .transfer import DownloadError, describe_network_error
from .trust import TRUST_FLAG
from .verify import Verification, hash_file, size_ceiling, verify_file

__all__ = ["TRUST_FLAG", "DownloadError", "DownloadOutcome", "Registry", "Release",
           "Verification", "default_team_file", "describe_network_error", "download",
           "expected_name", "hash_file", "parse_installer_name", "quarantine",
           "read_registry_file", "size_ceiling", "verify_file", "version_tuple"]

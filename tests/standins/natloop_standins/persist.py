# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File persistence helpers for the stand-ins (stand-in for tests, NOT the real
AdGuard Home / Pi-hole)."""

import json
import os
import tempfile

import yaml


def atomic_write(path, text, mode=0o644):
    """Write ``text`` so readers see either the old or the new file, never half of it."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".standin-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _IndentedDumper(yaml.SafeDumper):
    """Indents block sequences under their key (``users:\\n  - name: x``) like AdGuard's writer."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump_yaml(data):
    return yaml.dump(data, Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096, indent=2)


def load_yaml(path):
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def load_json(path, default):
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return default


def save_json(path, data):
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n", mode=0o600)

#!/usr/bin/env python3
"""The bad bundles test_bad_bundles.py feeds dockpold, checked offline: each
variant hotswap_lib.damaged() cuts (from the layout `dockpolc inspect
--format json` reports) is refused by `dockpolc inspect` for the reason the
loader gives dockpold. Needs only dockpolc and openssl, so it runs without
root, and a layout change the helpers misread fails here first.

Usage: test_damaged_offline.py DOCKPOLC
"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotswap_lib as hs  # noqa: E402
from hotswap_lib import e2e  # noqa: E402

# Variant → (checked with the public key?, a fragment of the loader's reason in dockpolc's message).
EXPECTED = {
    "corrupted": (True, "digest mismatch"),
    "truncated": (True, "truncated"),
    "empty": (True, "truncated"),
    "tampered": (True, "bad signature"),
    "verifier": (True, "reserved name"),
    "verifier-unsigned": (False, "reserved name"),
}


class TempWorkspace:
    """What hotswap_lib needs of e2e.Workspace: a directory and path()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dockpol-damaged.")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


def main(argv):
    checks = e2e.Checks("damaged_offline")
    dockpolc = e2e.need_file(argv[1] if len(argv) > 1 else None, "dockpolc")
    if shutil.which("openssl") is None:
        e2e.log("SKIP: openssl not found")
        return e2e.SKIP
    ws = TempWorkspace()
    try:
        key, pub = hs.keygen(dockpolc, ws, "k1")
        good = hs.build(dockpolc, "deny_list.dpol", ws.path("B.dpb"), "rev-B", sign=key)
        bait = hs.build(dockpolc, "verifier_bait.dpol", ws.path("bait.dpb"), "rev-bait", sign=key)
        bait_unsigned = hs.build(dockpolc, "verifier_bait.dpol", ws.path("bait-u.dpb"), "rev-bait")
        checks.check("the good signed bundle loads with its key",
                     e2e.run([dockpolc, "inspect", good, "--pubkey", pub]).rc == 0)
        for name, (signed, reason) in EXPECTED.items():
            if name == "verifier":
                data = hs.damaged(ws, dockpolc, bait, "verifier", key=key)
            elif name == "verifier-unsigned":
                data = hs.damaged(ws, dockpolc, bait_unsigned, "verifier")
            else:
                data = hs.damaged(ws, dockpolc, good, name)
            path = hs.write(ws.path(f"bad-{name}.dpb"), data)
            args = [dockpolc, "inspect", path] + (["--pubkey", pub] if signed else [])
            r = e2e.run(args)
            checks.check(f"{name}: refused (exit 2) because {reason}", r.rc == 2 and reason in r.err, r.describe())
    except e2e.Fatal as e:
        checks.check("precondition", False, str(e))
    finally:
        shutil.rmtree(ws.dir, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

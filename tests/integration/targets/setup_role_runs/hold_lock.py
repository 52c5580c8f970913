"""Hold a certificate's lock until told to let go, so that runs started meanwhile all wait at it.

Usage: hold_lock.py LOCK_FILE RELEASE_FILE. Takes the same flock the modules take on LOCK_FILE
(order.json.lock), creates RELEASE_FILE.held once it holds it, and lets go when RELEASE_FILE exists.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time


def main(lock_file: str, release_file: str) -> None:
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    with open(release_file + ".held", "w", encoding="ascii"):
        pass
    while not os.path.exists(release_file):
        time.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

# Stand-in for the pip bootstrap script ansible-test downloads from a host this
# machine cannot reach. ansible-test runs it with pip's command-line options
# (e.g. `--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel`) inside
# a fresh virtual environment that has no pip: install the bundled pip with
# ensurepip, then let that pip install what ansible-test asked for.
import subprocess
import sys

BOOTSTRAP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
arguments = [arg for arg in sys.argv[1:] if arg not in BOOTSTRAP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments])

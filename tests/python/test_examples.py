"""examples/ scripts run as a user would run them."""
import os
import subprocess
import sys

from conftest import ROOT


def test_notebook_tour(model_path):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "notebook_tour.py"), model_path],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "p(' Paris')" in p.stdout and "log-probs" in p.stdout and "Eiffel" in p.stdout


def test_import_is_lazy_and_cheap():
    """`import reasonscope` loads neither torch nor the compiled module (reasonscope.ray needs
    neither); either import order works."""
    code = ("import sys, reasonscope; assert 'torch' not in sys.modules and 'reasonscope._C' not in sys.modules;"
            "reasonscope.Error; assert 'reasonscope._C' in sys.modules and 'torch' in sys.modules")
    for c in (code, "import torch, reasonscope; reasonscope.Error", "import reasonscope, torch; reasonscope.Error"):
        p = subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

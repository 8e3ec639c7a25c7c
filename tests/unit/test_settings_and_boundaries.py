"""Settings are documented, the engine never imports streamlit, and bad settings say which variable is wrong."""

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from playground import SETTINGS, ConfigError, Settings
from playground.settings import markdown_table
from scripts.readme_settings import with_table
from tests.conftest import ROOT


def test_the_readme_settings_table_is_the_generated_one():
    """Name, default and help text of every setting, exactly as declared: a changed default or help text that
    was not regenerated into the README fails here (run `python scripts/readme_settings.py`)."""
    readme = (ROOT / "README.md").read_text()
    assert with_table(readme, markdown_table()) == readme, "run `python scripts/readme_settings.py`"
    for s in SETTINGS:
        assert f"| `{s.env}` |" in readme


def test_the_readme_mentions_no_setting_that_does_not_exist():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(PLAYGROUND_[A-Z_]+)`", readme))
    assert documented <= {s.env for s in SETTINGS}


def test_a_setting_is_a_field_with_its_parser():
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
    assert Settings.from_env({"PLAYGROUND_PRIVATE_PROFILES": "yes"}).private_profiles is True
    assert Settings.from_env({}).data_dir == Path("~/.local/share/personalization-playground").expanduser()


def test_settings_read_from_environment_with_types():
    s = Settings.from_env({"PLAYGROUND_DATA_DIR": "/tmp/x", "PLAYGROUND_DEFAULT_K": "7",
                           "PLAYGROUND_LLM_BACKEND": "openai", "OLLAMA_HOST": "gpu-box:11434"})
    assert s.default_k == 7 and s.llm_backend == "openai"
    assert str(s.data_dir) == "/tmp/x"
    assert s.ollama_host == "http://gpu-box:11434", "OLLAMA_HOST is honoured when PLAYGROUND_OLLAMA_HOST is unset"


def test_a_malformed_setting_names_the_variable():
    with pytest.raises(ConfigError, match="PLAYGROUND_DEFAULT_K"):
        Settings.from_env({"PLAYGROUND_DEFAULT_K": "many"})
    with pytest.raises(ConfigError, match="PLAYGROUND_LLM_BACKEND"):
        Settings.from_env({"PLAYGROUND_LLM_BACKEND": "gpt"})


def test_public_settings_mask_secrets():
    s = Settings.from_env({"PLAYGROUND_ADMIN_PASSPHRASE": "hunter2"})
    assert "hunter2" not in str(s.public())


def test_the_engine_never_imports_streamlit():
    code = "import sys, playground, playground.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_importing_the_engine_does_not_load_torch():
    """The home page must paint before the ~5 s sentence-transformers import."""
    code = "import sys, playground; print(any(m in sys.modules for m in ('torch', 'sentence_transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"

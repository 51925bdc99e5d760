"""Settings: declared once, validated, and every one documented."""

import pytest

from core import settings
from tests.support import ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in settings.SETTINGS if f"`BASIRAT_{s.name}`" not in readme]
    assert missing == []


def test_environment_then_overrides():
    values = settings.load({"PORT": 9001}, environ={"BASIRAT_PORT": "9000", "BASIRAT_ANONYMIZE_IP": "false"})
    assert values["PORT"] == 9001 and values["ANONYMIZE_IP"] is False


@pytest.mark.parametrize("env", [{"BASIRAT_PORT": "eighty"}, {"BASIRAT_ANONYMIZE_IP": "maybe"}])
def test_bad_values_stop_with_a_clear_message(env):
    with pytest.raises(settings.SettingsError, match="BASIRAT_"):
        settings.load(environ=env)

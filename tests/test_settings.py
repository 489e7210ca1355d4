from pathlib import Path

import pytest

from shared.settings import Settings, SettingsError


def test_defaults_need_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings.from_env({})
    assert settings.enabled is True
    assert settings.sink == "local"
    assert (settings.bq_dataset, settings.bq_table, settings.bq_location) == (
        "hl_timeleft", "clickstream", "US")
    assert (settings.batch_size, settings.flush_interval) == (10, 2.0)
    assert settings.data_dir == tmp_path / "hl-vox-timeleft"
    assert settings.store_path.parent == settings.data_dir


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "HL_VOX_CLICKSTREAM_ENABLED": "false", "HL_VOX_SINK": "BigQuery", "HL_VOX_BQ_PROJECT": "p1",
        "HL_VOX_BQ_DATASET": "d1", "HL_VOX_BQ_TABLE": "t1", "HL_VOX_BQ_LOCATION": "EU",
        "HL_VOX_BQ_ENDPOINT": "http://127.0.0.1:1", "HL_VOX_BATCH_SIZE": " 25 ",
        "HL_VOX_FLUSH_INTERVAL": "0.5", "HL_VOX_DATA_DIR": str(tmp_path),
        "HL_VOX_RETENTION_DAYS": "7", "HL_VOX_SOUND_DIR": str(tmp_path / "sound"),
    })
    assert settings.enabled is False and settings.sink == "bigquery"
    assert settings.table_id == "p1.d1.t1" and settings.bq_location == "EU"
    assert settings.bq_endpoint == "http://127.0.0.1:1"
    assert (settings.batch_size, settings.flush_interval, settings.data_dir) == (25, 0.5, tmp_path)
    assert (settings.retention_days, settings.sound_dir) == (7, tmp_path / "sound")


@pytest.mark.parametrize("name, value, words", [
    ("HL_VOX_BATCH_SIZE", "abc", "not a whole number"),
    ("HL_VOX_BATCH_SIZE", "0", "out of range"),
    ("HL_VOX_BATCH_SIZE", "501", "out of range"),
    ("HL_VOX_FLUSH_INTERVAL", "soon", "not a number"),
    ("HL_VOX_FLUSH_INTERVAL", "-1", "out of range"),
    ("HL_VOX_FLUSH_INTERVAL", "nan", "out of range"),
    ("HL_VOX_CLICKSTREAM_ENABLED", "maybe", "not a boolean"),
    ("HL_VOX_SINK", "kafka", "not one of"),
    ("HL_VOX_RETENTION_DAYS", "0", "out of range"),
])
def test_bad_values_name_the_variable(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({name: value})
    assert name in str(error.value) and words in str(error.value)


def test_bigquery_sink_needs_a_project_and_valid_ids() -> None:
    with pytest.raises(SettingsError, match="HL_VOX_BQ_PROJECT"):
        Settings.from_env({"HL_VOX_SINK": "bigquery"})
    with pytest.raises(SettingsError, match="dataset id 'my-dataset' is not valid"):
        Settings.from_env({"HL_VOX_SINK": "bigquery", "HL_VOX_BQ_PROJECT": "my-project",
                           "HL_VOX_BQ_DATASET": "my-dataset"})
    # The local sink does not care, and a caller with its own ids can skip the check.
    assert Settings.from_env({"HL_VOX_BQ_DATASET": "my-dataset"}).bq_dataset == "my-dataset"
    assert Settings.from_env({"HL_VOX_SINK": "bigquery"}, check_sink=False).bq_project is None


# -- the BigQuery write method -------------------------------------------------------------------

def test_write_method_defaults_to_the_storage_write_api() -> None:
    settings = Settings.from_env({})
    assert (settings.bq_method, settings.bq_grpc_endpoint, settings.bq_load_interval) == (
        "storage_write", None, 300.0)


def test_write_method_variables_are_read() -> None:
    settings = Settings.from_env({"HL_VOX_BQ_METHOD": " Load ", "HL_VOX_BQ_GRPC_ENDPOINT": "127.0.0.1:9060",
                                  "HL_VOX_BQ_LOAD_INTERVAL": "1"})
    assert (settings.bq_method, settings.bq_grpc_endpoint, settings.bq_load_interval) == (
        "load", "127.0.0.1:9060", 1.0)
    assert Settings.from_env({"HL_VOX_BQ_METHOD": "insert_all"}).bq_method == "insert_all"
    assert Settings.from_env({"HL_VOX_BQ_GRPC_ENDPOINT": "[::1]:9060"}).bq_grpc_endpoint == "[::1]:9060"


@pytest.mark.parametrize("name, value, words", [
    ("HL_VOX_BQ_METHOD", "streaming", "not one of: storage_write, load, insert_all"),
    ("HL_VOX_BQ_GRPC_ENDPOINT", "http://127.0.0.1:9060", "is not host:port"),
    ("HL_VOX_BQ_GRPC_ENDPOINT", "127.0.0.1", "is not host:port"),
    ("HL_VOX_BQ_GRPC_ENDPOINT", "127.0.0.1:0", "is not host:port"),
    ("HL_VOX_BQ_GRPC_ENDPOINT", ":9060", "is not host:port"),
    ("HL_VOX_BQ_LOAD_INTERVAL", "0.5", "out of range: use 1.0 to 86400.0 seconds"),
    ("HL_VOX_BQ_LOAD_INTERVAL", "hourly", "not a number"),
])
def test_bad_write_method_values_name_the_variable(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({name: value})
    assert name in str(error.value) and words in str(error.value)


# -- the web server's grace period ---------------------------------------------------------------

def test_web_grace_defaults_to_a_minute_and_is_read() -> None:
    assert Settings.from_env({}).web_grace_seconds == 60.0
    assert Settings.from_env({"HL_VOX_WEB_GRACE_SECONDS": "2.5"}).web_grace_seconds == 2.5


@pytest.mark.parametrize("value, words", [("0.5", "out of range"), ("soon", "not a number")])
def test_bad_web_grace_names_the_variable(value: str, words: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"HL_VOX_WEB_GRACE_SECONDS": value})
    assert "HL_VOX_WEB_GRACE_SECONDS" in str(error.value) and words in str(error.value)

"""Typed flow parameters: bad values fail fast with a clear message, before any work or output."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest
from prefect.exceptions import ParameterTypeError

from flows.nightly import nightly
from flows.serve import load_deployment_specs
from tasks.config import Settings, known_translators, load_settings

pytestmark = pytest.mark.e2e


def _nothing_written(workdir: Path) -> bool:
    return not (workdir / "output").exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"translator": "no-such-engine"}, "unknown translator 'no-such-engine'"),
        ({"task_runner": "kubernetes"}, "task_runner must be one of"),
    ],
)
def test_bad_parameter_is_refused_before_the_run_starts(seed_copy: Path, params, message):
    with pytest.raises(ParameterTypeError, match=message):
        nightly(sources_file=str(seed_copy / "sources.toml"), output_dir=str(seed_copy / "output"), **params)
    assert _nothing_written(seed_copy)


def test_missing_sources_file_fails_with_its_path_and_writes_nothing(seed_copy: Path):
    missing = seed_copy / "nope.toml"
    with pytest.raises(FileNotFoundError, match=r"sources file not found: .*nope\.toml"):
        nightly(sources_file=str(missing), output_dir=str(seed_copy / "output"))
    assert _nothing_written(seed_copy)


def test_missing_settings_file_fails_with_its_path(seed_copy: Path):
    with pytest.raises(FileNotFoundError, match="settings file not found"):
        nightly(
            sources_file=str(seed_copy / "sources.toml"),
            settings_file=str(seed_copy / "absent.toml"),
            output_dir=str(seed_copy / "output"),
        )
    assert _nothing_written(seed_copy)


def test_unknown_translator_in_settings_file_fails_before_work(seed_copy: Path):
    settings = seed_copy / "settings.toml"
    settings.write_text('[pipeline]\ntranslator = "babelfish"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown translator 'babelfish'"):
        nightly(
            sources_file=str(seed_copy / "sources.toml"),
            settings_file=str(settings),
            output_dir=str(seed_copy / "output"),
        )
    assert _nothing_written(seed_copy)


def test_parameter_schema_documents_every_parameter_for_the_ui_form():
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(nightly.fn).model_dump_for_openapi()
    props = schema["properties"]
    assert set(props) == {
        "sources_file",
        "settings_file",
        "output_dir",
        "full_refresh",
        "reprocess",
        "translator",
        "batch_size",
        "task_runner",
    }
    for name, prop in props.items():
        assert prop.get("description"), name
    assert props["full_refresh"]["type"] == "boolean"
    assert props["batch_size"]["anyOf"][0]["minimum"] == 1


def test_prefect_yaml_defaults_are_valid_flow_parameters():
    (spec,) = [s for s in load_deployment_specs() if s.name == "nightly"]
    from prefect.utilities.callables import parameter_schema

    assert set(spec.parameters) <= set(parameter_schema(nightly.fn).properties)
    nightly.validate_parameters(dict(spec.parameters))  # raises on a bad default


def test_prefect_yaml_parses_with_prefects_own_model_and_declares_schedule_and_limit():
    import yaml
    from prefect.cli.deploy._models import PrefectYamlModel

    from flows.serve import PREFECT_YAML

    model = PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))
    (nightly_cfg,) = [d for d in model.deployments if d.name == "nightly"]
    (schedule,) = nightly_cfg.schedules or []
    assert schedule.timezone == "Asia/Seoul"
    assert schedule.cron
    assert nightly_cfg.concurrency_limit is not None
    assert nightly_cfg.concurrency_limit.limit == 1
    assert nightly_cfg.concurrency_limit.collision_strategy == "ENQUEUE"
    assert nightly_cfg.entrypoint == "flows/deployment.py:nightly_deployed"


def test_deployed_flow_retries_and_keeps_the_flow_name():
    from flows.deployment import nightly_deployed

    assert nightly_deployed.name == nightly.name
    assert nightly_deployed.retries >= 1


@pytest.mark.parametrize("spec", ["threads", "processes", "dask", "dask://10.0.0.5:8786", "tcp://10.0.0.5:8786"])
def test_task_runner_setting_accepts_known_kinds_and_scheduler_addresses(spec):
    assert Settings(task_runner=spec).task_runner == spec


def test_task_runner_and_workers_come_from_the_environment():
    settings = load_settings(environ={"NEWSGRAPH_TASK_RUNNER": "processes", "NEWSGRAPH_WORKERS": "3"})
    assert (settings.task_runner, settings.workers) == ("processes", 3)


def test_known_translators_include_the_default():
    assert Settings().translator in known_translators()


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("nosuchfs://bucket/newsgraph", "Protocol not known: nosuchfs"),
        pytest.param(
            "gs://bucket/newsgraph",
            "install gcsfs",
            marks=pytest.mark.skipif(find_spec("gcsfs") is not None, reason="gcsfs is installed"),
        ),
    ],
)
def test_object_storage_output_that_cannot_be_opened_fails_before_any_work(seed_copy: Path, location, message):
    with pytest.raises(ValueError, match=message):
        nightly(sources_file=str(seed_copy / "sources.toml"), output_dir=location)
    assert not Path("nosuchfs:").exists()
    assert not Path("gs:").exists()
    assert not Path(".newsgraph-work").exists()  # the default work directory was not created

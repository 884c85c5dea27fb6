"""The deployment as written: the compose file against the Compose specification and as
data, the image definition with hadolint and as text, and the lock files against the
project's pins. No Docker engine runs here: nothing is built or started by these tests."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_runs_a_real_app_factory_from_one_image() -> None:
    from services.cli import ServiceName

    services = compose()["services"]
    for name in ("ingest", "recommender", "notifier"):
        service = services[name]
        assert service["image"] == "springboard:latest"
        assert service["command"] == ["springboard", "run", name]
        assert ServiceName(name)
        factory = importlib.import_module(f"services.{name}.main").create_app
        assert callable(factory)
        assert factory().springboard_runtime.name == name
        assert set(service["depends_on"]) == {"kafka", "postgres"}


def test_kafka_runs_in_kraft_mode_and_postgres_is_health_checked() -> None:
    services = compose()["services"]
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"]
    assert "healthcheck" in services["postgres"]


def test_secrets_come_from_the_environment_and_must_be_set() -> None:
    import re

    text = (ROOT / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET)\w*:\s", line) and "${" not in line:
            raise AssertionError(f"a secret written into the compose file: {line.strip()}")
    assert "${POSTGRES_PASSWORD:?" in text
    assert "${GRAFANA_ADMIN_PASSWORD:?" in text


def test_mounted_files_exist_and_named_volumes_are_declared() -> None:
    spec = compose()
    declared = set(spec["volumes"])
    for name, service in spec["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_the_image_is_built_from_a_dockerfile_in_the_repository() -> None:
    assert (ROOT / "Dockerfile").exists()


def test_the_compose_file_passes_the_compose_specifications_schema(tmp_path: Path) -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    command = [str(checker), "--builtin-schema", "vendor.compose-spec"]
    ok = subprocess.run(
        [*command, str(ROOT / "docker-compose.yml")], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = compose()
    broken["services"]["ingest"]["restart"] = ["not", "a", "policy"]
    (tmp_path / "compose.yml").write_text(yaml.safe_dump(broken))
    refused = subprocess.run([*command, str(tmp_path / "compose.yml")], capture_output=True)
    assert refused.returncode == 1, "the schema check must be able to fail"


def test_every_service_is_health_checked() -> None:
    for name, service in compose()["services"].items():
        assert "healthcheck" in service, name
        assert service["healthcheck"]["test"], name


def test_the_data_directory_and_model_store_live_in_a_named_volume() -> None:
    from services.recommender.settings import RecommenderSettings

    spec = compose()
    for name in ("ingest", "recommender", "notifier"):
        service = spec["services"][name]
        data_dir = service["environment"]["SPRINGBOARD_DATA_DIR"]
        assert f"springboard-data:{data_dir}" in service["volumes"], name
    environment = spec["services"]["recommender"]["environment"]
    settings = RecommenderSettings(data_dir=Path(environment["SPRINGBOARD_DATA_DIR"]))
    models = settings.model_dir or settings.data_dir / "models"
    assert models.is_relative_to(environment["SPRINGBOARD_DATA_DIR"])
    assert (
        "/var/lib/springboard" in dockerfile()
    )  # the image's own data directory, owned by its user
    assert "SPRINGBOARD_DATA_DIR=/var/lib/springboard" in dockerfile()


def test_every_springboard_variable_the_compose_file_sets_is_a_real_setting() -> None:
    from services.configuration import SERVICES, rows

    spec = compose()
    for name, settings in SERVICES.items():
        known = {variable for variable, _ in rows(settings)}
        for variable in spec["services"][name]["environment"]:
            if variable.startswith("SPRINGBOARD_"):
                assert variable in known, f"{name}: {variable} is no setting"


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_passes_hadolint() -> None:
    linter = Path(sys.executable).with_name("hadolint")
    out = subprocess.run([str(linter), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_builds_in_two_stages_from_a_pinned_base_and_the_lock() -> None:
    import re

    text = dockerfile()
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(bases) == 2
    assert all(re.fullmatch(r"python:3\.11[\w.-]*@sha256:[0-9a-f]{64}", b) for b in bases), bases
    assert "--require-hashes" in text
    assert "requirements/runtime.txt" in text
    # Dependencies before the code: a code change rebuilds one layer.
    assert text.index("requirements/runtime.txt") < text.index("COPY services")
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*/ready", text, re.MULTILINE | re.DOTALL)
    # Compose's commands replace CMD whole: no entrypoint to prepend to them.
    assert "ENTRYPOINT" not in text
    assert 'CMD ["springboard", "up"]' in text
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[1 if ignored[0].startswith("#") else 0] == "*"  # only what is let back in


def pins(path: Path) -> dict[str, str]:
    import re

    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", path.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_the_lock_files_hold_every_pin_of_the_project() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = pins(ROOT / "requirements/runtime.txt"), pins(ROOT / "requirements/dev.txt")
    for requirement, lock in (
        *((r, runtime) for r in project["dependencies"]),
        *((r, dev) for r in project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        name, version = requirement.split("==")
        name = name.split("[")[0].lower().replace("_", "-")
        assert lock.get(name) == version, f"{name}: pyproject {version}, lock {lock.get(name)}"
    hashed = (ROOT / "requirements/runtime.txt").read_text()
    assert hashed.count("--hash=sha256:") >= len(runtime)


def test_the_wheel_ships_services_and_shared_only() -> None:
    import tomllib

    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert found["packages"]["find"]["include"] == ["shared*", "services*"]


def test_the_wheel_carries_the_owner_pages_templates_and_assets(tmp_path: Path) -> None:
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("springboard-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    page = ROOT / "services" / "notifier" / "page"
    needed = {
        str(p.relative_to(ROOT))
        for folder in ("templates", "static")
        for p in (page / folder).iterdir()
    }
    assert needed
    assert needed <= shipped, sorted(needed - shipped)
    assert {name.split("/")[0] for name in shipped if "/" in name} - {"services", "shared"} == {
        wheel.name.removesuffix("-py3-none-any.whl") + ".dist-info"
    }

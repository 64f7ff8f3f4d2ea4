"""deploy/ checked without a container engine: compose and Kubernetes manifests against
their published JSON schemas, the Dockerfile with hadolint, and the contract between
them and the code (commands that exist, the health path, the image's user)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (it is in the dev dependencies: make install)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def test_compose_file_matches_the_compose_spec_schema(tmp_path: Path) -> None:
    tool = _tool("check-jsonschema")
    good = _run(tool, "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "compose.yaml"  # the check can fail: a misspelt key is refused
    bad.write_text("services:\n  a:\n    image: x\n    healthcheck: {intervall: 3s}\n")
    refused = _run(tool, "--builtin-schema", "vendor.compose-spec", str(bad))
    assert refused.returncode != 0 and "intervall" in refused.stdout


def test_kubernetes_manifests_match_the_api_schemas(tmp_path: Path) -> None:
    tool = _tool("kubernetes-validate")
    manifests = sorted(p for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    result = _run(tool, "--strict", *map(str, manifests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") >= 10
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
        "spec: {replica: 2, selector: {}, template: {}}\n"
    )
    assert _run(tool, "--strict", str(bad)).returncode != 0


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    files = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")}
    listed = set(kustomization["resources"])
    assert listed <= files
    assert files - listed == {"kustomization.yaml", "secret.example.yaml"}


def test_dockerfile_passes_hadolint() -> None:
    tool = _tool("hadolint")
    result = _run(tool, "--failure-threshold", "info", str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_deployment_commands_exist_and_probes_use_health() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["gateway"]["deploy"]["replicas"] == 2
    assert services["gateway"]["command"][:2] == ["serve", "--no-bots"]
    assert {"redis", "discord", "telegram"} <= {
        name for name, spec in services.items() if spec.get("profiles")
    }
    assert not any("ports" in spec for name, spec in services.items() if name != "caddy")
    assert compose["networks"]["backend"]["internal"] is True
    gateway = next(yaml.safe_load_all((DEPLOY / "k8s" / "gateway.yaml").read_text()))
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    caddy = (DEPLOY / "Caddyfile").read_text()
    for needle in ("health_uri /health", "flush_interval -1", "Strict-Transport-Security",
                   "Content-Security-Policy", "nosniff", "DENY"):  # fmt: skip
        assert needle in caddy
    from typer.main import get_command

    from companion.cli.main import app

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    used = {spec["command"][0] for spec in services.values() if "command" in spec}
    used -= {"redis-server", "telegram"}  # telegram: its own issue adds the command
    assert used <= commands, used - commands

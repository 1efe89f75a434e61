"""The templates environment: where templates come from, strict undefined names, safe quoting."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

from aksnet.errors import NotFound
from aksnet.infra import templates
from aksnet.infra.templates import PACKAGED_TEMPLATES, TEMPLATES_ENV, render, templates_dir

SHIPPED = ("kubeadm-config.yaml.j2", "flannel.yaml.j2", "calico.yaml.j2", "calico-ippool.yaml.j2")


def test_templates_are_found_in_the_repository_templates_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    found = templates_dir()
    assert found == Path(__file__).resolve().parents[2] / "templates"
    assert all((found / name).is_file() for name in SHIPPED)


def test_the_environment_variable_chooses_another_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "greeting.j2").write_text("hello {{ name }}\n")
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path))
    assert templates_dir() == tmp_path
    assert render("greeting.j2", name="lab") == "hello lab\n"


def test_a_wrong_environment_variable_is_an_error_naming_both_places(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(TEMPLATES_ENV, str(missing))
    with pytest.raises(NotFound) as caught:
        templates_dir()
    message = str(caught.value)
    assert TEMPLATES_ENV in message and str(missing) in message
    assert str(PACKAGED_TEMPLATES) in message


def test_no_templates_anywhere_is_an_error_naming_both_places(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    monkeypatch.setattr(templates, "PACKAGED_TEMPLATES", tmp_path / "not-installed")
    with pytest.raises(NotFound) as caught:
        templates_dir()
    message = str(caught.value)
    assert TEMPLATES_ENV in message and "not set" in message
    assert str(tmp_path / "not-installed") in message


def test_a_missing_template_names_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    with pytest.raises(NotFound, match=r"no-such\.j2"):
        render("no-such.j2")


def test_an_undefined_name_is_an_error_not_an_empty_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    with pytest.raises(jinja2.UndefinedError, match="pod_cidr"):
        render("calico-ippool.yaml.j2", encapsulation="VXLAN", block_size=24)


def test_hostile_values_stay_one_yaml_scalar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "doc.j2").write_text("name: {{ value | json }}\nkind: Fixed\n")
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path))
    hostile = "x\"\nkind: Injected\n# ' {{ }} $(id) `id`; ünïcode"
    assert yaml.safe_load(render("doc.j2", value=hostile)) == {"name": hostile, "kind": "Fixed"}

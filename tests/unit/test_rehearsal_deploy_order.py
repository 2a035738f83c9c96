"""The rehearsal deploys stacks as `cdk deploy --all` orders them, and zips assets reproducibly."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

from cutover_cli.rehearsal.deploy import stack_order, template_url, zip_folder


def manifest(**deps: list[str]) -> dict:
    artifacts = {name: {"type": "aws:cloudformation:stack", "dependencies": d} for name, d in deps.items()}
    artifacts["a.assets"] = {"type": "cdk:asset-manifest"}
    return {"artifacts": artifacts}


def test_each_stack_comes_after_what_it_depends_on():
    order = stack_order(manifest(api=["stateful", "replication", "a.assets"], replication=["stateful"], stateful=[]))
    assert order == ["stateful", "replication", "api"]  # asset manifests are not stacks


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        stack_order(manifest(a=["b"], b=["a"]))


def test_an_asset_folder_zips_to_the_same_bytes_with_its_relative_paths(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_path / "index.py").write_text("")
    first = zip_folder(tmp_path)
    (tmp_path / "index.py").touch()  # a new mtime changes nothing
    assert zip_folder(tmp_path) == first
    assert zipfile.ZipFile(BytesIO(first)).namelist() == ["index.py", "pkg/m.py"]


def test_the_template_url_is_the_bootstrap_buckets_https_url():
    props = {"stackTemplateAssetObjectUrl": "s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/k.json"}
    assert template_url(props, "123456789012", "eu-west-1") == (
        "https://s3.eu-west-1.amazonaws.com/cdk-hnb659fds-assets-123456789012-eu-west-1/k.json"
    )

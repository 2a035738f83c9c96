"""runbooks/deploy.md starts by making the legacy tables safe in serverless.yml, and never has the
operator change them behind the Serverless stack's back."""

from __future__ import annotations

import re
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "deploy.md"


def _sections() -> list[tuple[str, str]]:
    text = RUNBOOK.read_text()
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_first_step_is_the_serverless_framework_change_with_exact_yaml():
    title, body = _sections()[0]
    assert "Serverless Framework" in title
    yaml = body.split("```yaml", 1)[1].split("```", 1)[0]
    # both tables get every protection, in the Serverless stack's own template
    for table in ("UsersTable", "OrdersTable"):
        block = yaml.split(f"{table}:", 1)[1]
        block = block.split("Table:\n", 1)[0] if table == "UsersTable" else block
        for line in (
            "DeletionPolicy: Retain",
            "UpdateReplacePolicy: Retain",
            "DeletionProtectionEnabled: true",
            "PointInTimeRecoveryEnabled: true",
            "StreamViewType: NEW_AND_OLD_IMAGES",
        ):
            assert line in block, (table, line)
    assert "serverless deploy" in body and "--enable-termination-protection" in body


def test_no_step_enables_a_stream_behind_the_serverless_stack():
    # `aws dynamodb update-table ... StreamEnabled=true` is drift a later `serverless deploy` undoes
    assert "StreamEnabled=true" not in RUNBOOK.read_text()


def test_backfill_restart_wording_matches_checkpoint_keys():
    text = RUNBOOK.read_text()
    assert "backfill#<table>#<segments>" in text and "new `run_id`" in text

"""The CDK app: ``make synth`` writes the CloudFormation template to infra/cdk.out/,
``make deploy STAGE=prod`` deploys it.

Context (``-c key=value`` or cdk.json): ``stage`` (default prod; must be a stage in
.chalice/config.json), ``alarmEmail`` (subscribe an address to the alarm topic),
``renderConcurrency`` (the render Map's MaxConcurrency, default 10), ``corsOrigins``
(comma-separated origins allowed to upload to and play from the media bucket in a browser;
default the region's API Gateway origins, where the dashboard at /api/app is served),
``logRetentionDays`` (1, 7, 14, 30, 90, 180 or 365; default 30), ``selector`` (``local``
or ``bedrock``: the clip selector, default local) and ``bedrockModelId`` (default
amazon.nova-lite-v1:0; the model must be enabled in the account's Bedrock console).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aws_cdk as cdk  # noqa: E402 - after infra/ joins sys.path
from aws_cdk import aws_logs as logs  # noqa: E402 - after infra/ joins sys.path

from stack import KlyphStack  # noqa: E402 - found through the sys.path entry above

RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH, 90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def main() -> None:
    # The CDK CLI passes CDK_OUTDIR; run directly (make synth), the template lands in infra/cdk.out.
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out"))
    ctx = app.node.try_get_context
    stage = ctx("stage") or os.environ.get("STAGE") or "prod"
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    KlyphStack(
        app,
        stage,
        stack_name=f"klyph-{stage}",
        description=f"Klyph clip engine ({stage})",
        # Without an account (offline synth) the stack stays environment-agnostic.
        env=cdk.Environment(account=account, region=region) if account else None,
        render_concurrency=int(ctx("renderConcurrency") or 10),
        alarm_email=ctx("alarmEmail") or None,
        cors_origins=[o.strip() for o in str(ctx("corsOrigins") or "").split(",") if o.strip()] or None,
        log_retention=RETENTION[int(ctx("logRetentionDays") or 30)],
        selector=ctx("selector") or "local",
        bedrock_model_id=ctx("bedrockModelId") or "amazon.nova-lite-v1:0",
        prepare_on_upload=str(ctx("prepareOnUpload") or "true").lower() not in ("0", "false", "off", "no"),
    )
    app.synth()


if __name__ == "__main__":
    main()

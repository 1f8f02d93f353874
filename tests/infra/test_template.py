"""The synthesised CloudFormation template: what must hold before anyone deploys it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.statemachine import DEFINITION_PATH, TASK_FUNCTIONS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

API, TRIGGER = "api_handler", "upload_trigger"
ALL = (API, TRIGGER, *TASK_FUNCTIONS)
# ffmpeg: upload probes, audio extraction, the loudness table (beside Transcribe), renders
FFMPEG = {API, TRIGGER, "pipeline_prepare", "pipeline_transcribe_start", "pipeline_render"}
REFRAME = "pipeline_reframe"  # OpenCV (the vision layer), no ffmpeg
TRACED = {TRIGGER, *TASK_FUNCTIONS}
SM_NAME = "klyph-prod-pipeline"
DELIVERY = "pipeline_deliver_webhook"
EVENT_RAISERS = ("pipeline_render", "pipeline_finalize", "pipeline_failed")

# Actions IAM cannot scope below "*" (no resource types); everything else must name resources.
STAR_ONLY = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords",  # X-Ray: no resource-level permissions
    "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "transcribe:StartTranscriptionJob",  # no resource type in IAM
    # Step Functions log delivery (added by CDK for the state machine's logging)
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    # CDK's bucket-notification custom resource (its own role, not the app's)
    "s3:PutBucketNotification",
}


def logical_id(handler: str) -> str:
    return "APIHandler" if handler == API else "".join(p.capitalize() for p in handler.split("_"))


def function(synth, handler: str) -> dict:
    return synth.template["Resources"][logical_id(handler)]["Properties"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def role_statements(synth, handler: str) -> list[dict]:
    """Every statement of the policies attached to a function's role."""
    role = function(synth, handler)["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions_on(statements: list[dict]) -> dict[str, list]:
    granted: dict[str, list] = {}
    for st in statements:
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            granted.setdefault(action, []).extend(as_list(st["Resource"]))
    return granted


def joined(value) -> str:
    """Render a Fn::Join / Fn::GetAtt / Ref as readable text for pattern checks."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(joined(p) for p in parts)
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"<{resource}.{attribute}>"
    if "Ref" in value:
        return f"<{value['Ref']}>"
    return json.dumps(value)


def only(resources: dict) -> dict:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def test_table_keys_on_demand_and_point_in_time_recovery(synth):
    table = only(synth.resources("AWS::DynamoDB::Table"))
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_bucket_private_encrypted_cors_and_lifecycle(synth):
    bucket = only(synth.resources("AWS::S3::Bucket"))["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "AES256"
    cors = bucket["CorsConfiguration"]["CorsRules"][0]
    # The dashboard's uploads and caption tracks: from API Gateway's origins in the region only.
    assert sorted(cors["AllowedMethods"]) == ["GET", "HEAD", "PUT"] and cors["AllowedHeaders"] == ["content-type"]
    assert [joined(o) for o in cors["AllowedOrigins"]] == ["https://*.execute-api.<AWS::Region>.<AWS::URLSuffix>"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-work"]["Prefix"] == "work/" and rules["expire-work"]["ExpirationInDays"] == 7
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert all(r["Status"] == "Enabled" for r in rules.values())
    # Versioned, so a source's accepted version survives later writes; what no one reads expires.
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert rules["expire-noncurrent"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert rules["remove-expired-delete-markers"]["ExpiredObjectDeleteMarker"] is True


def test_bucket_policy_denies_requests_without_tls(synth):
    policy = only(synth.resources("AWS::S3::BucketPolicy"))["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "s3:*" and deny[0]["Principal"] == {"AWS": "*"}


def test_upload_notification_targets_the_trigger_for_sources_under_accounts(synth):
    notification = only(synth.resources("Custom::S3BucketNotifications"))["Properties"]
    (config,) = notification["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert config["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"]: r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "accounts/", "suffix": "/source"}
    assert config["LambdaFunctionArn"] == {"Fn::GetAtt": ["UploadTrigger", "Arn"]}
    permissions = [p["Properties"] for p in synth.resources("AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "s3.amazonaws.com"]
    assert len(permissions) == 1 and permissions[0]["FunctionName"] == {"Fn::GetAtt": ["UploadTrigger", "Arn"]}


def test_upload_trigger_retries_twice_then_parks_the_event_in_an_encrypted_queue(synth):
    """S3 invokes the trigger asynchronously: Lambda retries a failed event, then hands it to the queue."""
    (queue_id, queue), = synth.resources("AWS::SQS::Queue").items()
    props = queue["Properties"]
    assert props["QueueName"] == "klyph-prod-upload-trigger-failures"
    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    config = only(synth.resources("AWS::Lambda::EventInvokeConfig"))
    assert config["Properties"] == {
        "FunctionName": {"Ref": "UploadTrigger"},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
    }
    # Lambda checks the role may send to the destination when the config is created.
    trigger_role = function(synth, TRIGGER)["Role"]["Fn::GetAtt"][0]
    trigger_policies = [k for k, p in synth.resources("AWS::IAM::Policy").items()
                        if {"Ref": trigger_role} in p["Properties"]["Roles"]]
    assert set(trigger_policies) <= set(config.get("DependsOn", []))


def test_upload_failures_queue_denies_requests_without_tls(synth):
    (queue_id,) = synth.resources("AWS::SQS::Queue")
    policy = only(synth.resources("AWS::SQS::QueuePolicy"))["Properties"]
    assert policy["Queues"] == [{"Ref": queue_id}]
    deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "sqs:*" and deny[0]["Principal"] == {"AWS": "*"}


def test_only_the_upload_trigger_may_send_to_the_failures_queue(synth):
    (queue_id,) = synth.resources("AWS::SQS::Queue")
    granted = {h: actions_on(role_statements(synth, h)) for h in ALL}
    assert granted[TRIGGER]["sqs:SendMessage"] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    assert [h for h in ALL if any(a.startswith("sqs:") for a in granted[h])] == [TRIGGER]
    assert [a for a in granted[TRIGGER] if a.startswith("sqs:")] == ["sqs:SendMessage"]


def test_stuck_uploads_alarm_and_the_outputs_the_redrive_needs(synth):
    (queue_id,) = synth.resources("AWS::SQS::Queue")
    (topic,) = synth.resources("AWS::SNS::Topic")
    alarms = [
        a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    ]
    assert len(alarms) == 1
    (alarm,) = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": topic}] and "redrive-uploads" in alarm["AlarmDescription"]
    outputs = synth.template["Outputs"]
    assert outputs["UploadFailuresQueueUrl"]["Value"] == {"Ref": queue_id}
    assert outputs["UploadTriggerFunctionName"]["Value"] == {"Ref": "UploadTrigger"}


def test_state_machine_is_the_shared_definition_with_the_chalice_functions(synth):
    sm = only(synth.resources("AWS::StepFunctions::StateMachine"))["Properties"]
    assert sm["StateMachineName"] == SM_NAME
    definition = json.loads(sm["DefinitionString"])
    shared = json.loads(DEFINITION_PATH.read_text())
    assert definition["States"].keys() == shared["States"].keys()
    tasks = {}

    def collect(states):
        for name, state in states.items():
            if state["Type"] == "Task":
                tasks[name] = state["Resource"]
            if state["Type"] == "Map":
                collect(state["ItemProcessor"]["States"])

    collect(definition["States"])
    placeholders = {re.fullmatch(r"\$\{(\w+)\}", r).group(1) for r in tasks.values()}
    assert placeholders == set(TASK_FUNCTIONS)
    assert sm["DefinitionSubstitutions"] == {h: {"Fn::GetAtt": [logical_id(h), "Arn"]} for h in TASK_FUNCTIONS}
    assert definition["States"]["RenderClips"]["MaxConcurrency"] == 10
    # Nothing but the Task Resources for CloudFormation to substitute.
    assert len(re.findall(r"\$\{", sm["DefinitionString"])) == len(tasks)
    assert sm["TracingConfiguration"] == {"Enabled": True}
    assert sm["LoggingConfiguration"]["Level"] == "ERROR"


def test_plan_reframe_runs_the_reframe_function_before_the_render(synth):
    sm = only(synth.resources("AWS::StepFunctions::StateMachine"))["Properties"]
    steps = json.loads(sm["DefinitionString"])["States"]["RenderClips"]["ItemProcessor"]
    plan = steps["States"]["PlanReframe"]
    assert steps["StartAt"] == "PlanReframe" and plan["Next"] == "RenderClip"
    assert plan["Resource"] == "${pipeline_reframe}"
    assert sm["DefinitionSubstitutions"]["pipeline_reframe"] == {"Fn::GetAtt": ["PipelineReframe", "Arn"]}
    assert synth.template["Resources"]["PipelineReframe"]["Type"] == "AWS::Serverless::Function"
    # A failed plan is caught: the render goes on with the centre crop.
    assert [c["Next"] for c in plan["Catch"]] == ["RenderClip"]


def test_state_machine_role_may_invoke_only_the_task_functions(synth):
    sm = only(synth.resources("AWS::StepFunctions::StateMachine"))["Properties"]
    role = sm["RoleArn"]["Fn::GetAtt"][0]
    statements = [s for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    granted = actions_on(statements)
    assert sorted(map(json.dumps, granted["lambda:InvokeFunction"])) == sorted(
        json.dumps({"Fn::GetAtt": [logical_id(h), "Arn"]}) for h in TASK_FUNCTIONS)
    assert {a.split(":")[0] for a in granted} <= {"lambda", "xray", "logs"}


def test_functions_get_the_state_machine_arn_without_referencing_it(synth):
    """The cycle breaker: the ARN is composed from the fixed name and equals the machine's."""
    (sm_id,) = synth.resources("AWS::StepFunctions::StateMachine")
    arn = joined(function(synth, API)["Environment"]["Variables"]["KLYPH_STATE_MACHINE_ARN"])
    assert arn == f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:{SM_NAME}"
    for handler in ALL:
        props = function(synth, handler)
        assert joined(props["Environment"]["Variables"]["KLYPH_STATE_MACHINE_ARN"]) == arn
        assert sm_id not in json.dumps(props)
        assert sm_id not in json.dumps(synth.template["Resources"][logical_id(handler)].get("DependsOn", []))


def test_function_environment_runtime_and_tracing(synth):
    table = next(iter(synth.resources("AWS::DynamoDB::Table")))
    bucket = next(iter(synth.resources("AWS::S3::Bucket")))
    for handler in ALL:
        props = function(synth, handler)
        env = props["Environment"]["Variables"]
        assert env["KLYPH_TABLE"] == {"Ref": table} and env["KLYPH_BUCKET"] == {"Ref": bucket}
        assert env["KLYPH_TRANSCRIBER"] == "aws" and env["KLYPH_FFMPEG"] == "/opt/bin/ffmpeg"
        assert env["POWERTOOLS_SERVICE_NAME"] == "klyph" and env["POWERTOOLS_METRICS_NAMESPACE"] == "Klyph"
        assert props["Runtime"] == "python3.12"  # AL2023: glibc new enough for ffmpeg and numpy
        assert props["Tracing"] == "Active"
        assert props["FunctionName"] == ("klyph-prod" if handler == API else f"klyph-prod-{handler}")
        # whole sources (up to 5 GiB) are downloaded to /tmp by the trigger, prepare, reframe and render
        large_tmp = handler in (TRIGGER, "pipeline_prepare", REFRAME, "pipeline_render")
        assert props.get("EphemeralStorage", {}).get("Size", 512) == (10240 if large_tmp else 512), handler


def test_layers_ride_only_where_they_are_used(synth):
    for handler in ALL:
        kinds = set()
        for ref in function(synth, handler).get("Layers", []):
            description = synth.template["Resources"][ref["Ref"]]["Properties"]["Description"]
            kinds.add(description.split()[0])
        expected = set()
        if handler in FFMPEG:
            expected.add("ffmpeg")
        if handler == "pipeline_select":
            expected.add("numpy")
        if handler == REFRAME:
            expected.add("opencv-python-headless")
        if handler in TRACED:
            expected.add("aws-xray-sdk")
        assert kinds == expected, handler


def test_the_reframe_planner_carries_opencv_and_tracing_and_no_ffmpeg(synth):
    """PlanReframe decodes with OpenCV's own FFmpeg: the vision layer, not the ffmpeg binary;
    the render applies the plan with ffmpeg and stays without OpenCV."""
    described = {}
    for handler in ALL:
        described[handler] = sorted(synth.template["Resources"][ref["Ref"]]["Properties"]["Description"]
                                    for ref in function(synth, handler).get("Layers", []))
    assert [d.split()[0] for d in described[REFRAME]] == ["aws-xray-sdk", "opencv-python-headless"]
    assert [h for h in ALL if any(d.startswith("opencv") for d in described[h])] == [REFRAME]
    assert not any(d.startswith("ffmpeg") for d in described[REFRAME])
    layer = next(ref["Ref"] for ref in function(synth, REFRAME)["Layers"]
                 if "opencv" in synth.template["Resources"][ref["Ref"]]["Properties"]["Description"])
    props = synth.template["Resources"][layer]["Properties"]
    assert props["CompatibleRuntimes"] == ["python3.12"] and props["CompatibleArchitectures"] == ["x86_64"]
    memory = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["lambda_functions"][REFRAME]
    assert function(synth, REFRAME)["MemorySize"] == memory["lambda_memory_size"]
    assert function(synth, REFRAME)["Timeout"] == memory["lambda_timeout"]


def test_every_role_is_least_privilege(synth):
    for policy in synth.resources("AWS::IAM::Policy").values():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = as_list(st["Action"])
            assert not any(a.endswith(":*") or a == "*" for a in actions), st
            if "*" in as_list(st["Resource"]):
                assert set(actions) <= STAR_ONLY, st


def test_function_roles_grant_what_each_function_does(synth):
    granted = {h: actions_on(role_statements(synth, h)) for h in ALL}
    text = {h: {a: sorted(joined(r) for r in rs) for a, rs in g.items()} for h, g in granted.items()}

    def objects(handler, action):
        return [r.split("/", 1)[1] for r in text[handler].get(action, []) if "/" in r]

    api = text[API]
    assert api["states:StartExecution"] == [
        f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:{SM_NAME}"
    ]
    assert api["states:DescribeExecution"] == [
        f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{SM_NAME}:*"
    ]
    # Upload URLs are signed with the API's role: they can write sources, never clips; it also
    # writes corrections into the videos' transcripts (update-transcript), and reads a job's
    # transcript where a video has none kept yet (edits, exports).
    assert (objects(API, "s3:PutObject") == ["accounts/*/videos/*/source", "accounts/*/videos/*/transcripts/*"]
            and objects(API, "s3:GetObject") == ["accounts/*", "work/*"])
    assert not any(a.startswith("transcribe:") for a in api)
    # The API starts jobs (and a multipart upload's preparation), the upload trigger an accepted
    # source's preparation, the tasks that raise webhook events start deliveries; nothing else
    # touches Step Functions, and those only StartExecution on the one machine.
    assert [h for h in ALL if any(a.startswith("states:") for a in text[h])] == [API, TRIGGER, *EVENT_RAISERS]
    for handler in (TRIGGER, *EVENT_RAISERS):
        assert [a for a in text[handler] if a.startswith("states:")] == ["states:StartExecution"], handler
        assert text[handler]["states:StartExecution"] == api["states:StartExecution"], handler
    assert objects(TRIGGER, "s3:GetObject") == ["accounts/*"] and "s3:PutObject" not in text[TRIGGER]
    # Only two functions delete objects: the trigger, only source versions (a write after a
    # source was accepted), and the API, for delete-video (every version of a video's media and
    # intermediates, which it lists first). No pipeline task deletes anything.
    assert [h for h in ALL if any(a.startswith("s3:Delete") for a in text[h])] == [API, TRIGGER]
    assert objects(TRIGGER, "s3:DeleteObjectVersion") == ["accounts/*/videos/*/source"]
    assert "s3:DeleteObject" not in text[TRIGGER]
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert objects(API, action) == ["accounts/*", "work/*"], action
    assert [h for h in ALL if "s3:ListBucketVersions" in text[h]] == [API]
    bucket = next(iter(synth.resources("AWS::S3::Bucket")))
    assert api["s3:ListBucketVersions"] == [f"<{bucket}.Arn>"]
    assert [h for h in ALL if "dynamodb:BatchGetItem" in text[h]] == [API]
    # only the API creates videos, in a transaction guarded by a check on their project
    assert [h for h in ALL if "dynamodb:ConditionCheckItem" in text[h]] == [API]
    # The pinned version only; for reframe and render it is also what the presigned GET their
    # ffmpeg and OpenCV read the clip's ranges through is authorised by (ranged reads).
    for handler in (TRIGGER, "pipeline_prepare", REFRAME, "pipeline_render"):
        assert objects(handler, "s3:GetObjectVersion") == ["accounts/*/videos/*/source"], handler
    # The reframe planner only reads the pinned source and the job's transcript (when people
    # speak): no writes, no table (its plan travels in the Map item).
    assert {a for a in text[REFRAME] if a.startswith(("s3:", "dynamodb:"))} == {"s3:GetObject", "s3:GetObjectVersion"}
    assert objects(REFRAME, "s3:GetObject") == ["accounts/*/videos/*/source", "accounts/*/videos/*/transcripts/*",
                                                "work/*"]
    assert objects("pipeline_prepare", "s3:PutObject") == ["accounts/*/videos/*/prepared/*", "work/*"]
    assert objects("pipeline_render", "s3:PutObject") == ["accounts/*/videos/*/clips/*"]
    assert text["pipeline_transcribe_start"]["transcribe:StartTranscriptionJob"] == ["*"]
    assert objects("pipeline_transcribe_start", "s3:GetObject") == [
        "accounts/*/videos/*/prepared/*", "accounts/*/videos/*/transcripts/*", "work/*"]
    # The transcript goes to work/ and, kept, with the video (later jobs reuse it; corrections
    # are re-applied from it); audio stays where Prepare put it, and the loudness table measured
    # from it while Transcribe works goes beside it.
    assert objects("pipeline_transcribe_start", "s3:PutObject") == [
        "accounts/*/videos/*/prepared/*", "accounts/*/videos/*/transcripts/*", "work/*"]
    assert objects("pipeline_transcribe_check", "s3:PutObject") == ["accounts/*/videos/*/transcripts/*", "work/*"]
    assert objects("pipeline_transcribe_check", "s3:GetObject") == ["accounts/*/videos/*/transcripts/*", "work/*"]
    assert text["pipeline_transcribe_check"]["transcribe:GetTranscriptionJob"] == [
        "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:transcription-job/call_*",
        "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:transcription-job/prp_*"]
    assert [h for h in ALL if any(a.startswith("transcribe:") for a in text[h])] == [
        "pipeline_transcribe_start", "pipeline_transcribe_check"]
    for handler in ("pipeline_clip_failed", "pipeline_finalize", "pipeline_failed"):
        assert not any(a.startswith("s3:") for a in text[handler]), handler
    table = next(iter(synth.resources("AWS::DynamoDB::Table")))
    for handler in ALL:
        if handler != REFRAME:
            assert text[handler]["dynamodb:UpdateItem"] == [f"<{table}.Arn>"], handler
        # each function writes only its own log group
        assert text[handler]["logs:PutLogEvents"] and all(
            "/aws/lambda/klyph-prod" in r or "Logs" in r for r in text[handler]["logs:PutLogEvents"])


def test_log_groups_have_retention(synth):
    groups = {
        v["Properties"].get("LogGroupName"): v["Properties"] for v in synth.resources("AWS::Logs::LogGroup").values()
    }
    for handler in ALL:
        name = "/aws/lambda/klyph-prod" + ("" if handler == API else f"-{handler}")
        assert groups[name]["RetentionInDays"] == 30, name
    assert groups[f"/aws/vendedlogs/states/{SM_NAME}"]["RetentionInDays"] == 30


def test_api_stage_and_gateway_responses_speak_the_error_contract(synth):
    api = only(synth.resources("AWS::Serverless::Api"))["Properties"]
    assert api["StageName"] == "api" and api["TracingEnabled"] is True
    responses = api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    body = json.loads(missing["responseTemplates"]["application/json"].replace("$context.httpMethod", "GET"))
    assert body["error"] == "not_found" and body["message"]
    for kind, code in (
        ("DEFAULT_4XX", "bad_request"), ("DEFAULT_5XX", "server_error"), ("ACCESS_DENIED", "unauthorized")
    ):
        template = responses[kind]["responseTemplates"]["application/json"]
        assert json.loads(template.replace("$context.error.messageString", '"quoted by API Gateway"'))["error"] == code
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"


def test_alarms_cover_failed_jobs_and_function_errors_and_throttles(synth):
    (topic,) = synth.resources("AWS::SNS::Topic")
    (sm_id,) = synth.resources("AWS::StepFunctions::StateMachine")
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    assert all(a["AlarmActions"] == [{"Ref": topic}] for a in alarms)
    sm_alarms = {a["MetricName"] for a in alarms if a["Namespace"] == "AWS/States"}
    assert {"ExecutionsFailed", "ExecutionsTimedOut"} <= sm_alarms
    assert all(a["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": sm_id}}]
               for a in alarms if a["Namespace"] == "AWS/States")
    covered = {(a["Dimensions"][0]["Value"], a["MetricName"]) for a in alarms if a["Namespace"] == "AWS/Lambda"}
    for handler in ALL:
        name = function(synth, handler)["FunctionName"]
        assert {(name, "Errors"), (name, "Throttles")} <= covered, handler
    # No email unless asked for (context alarmEmail); the local selector needs no Bedrock.
    assert not synth.resources("AWS::SNS::Subscription")
    assert function(synth, "pipeline_select")["Environment"]["Variables"]["KLYPH_SELECTOR"] == "local"
    # Uploads are prepared at once by default, wherever an upload is accepted.
    assert {function(synth, h)["Environment"]["Variables"]["KLYPH_PREPARE_ON_UPLOAD"] for h in ALL} == {"1"}


def test_options_email_bedrock_cors_and_concurrency(synth_with_options):
    synth = synth_with_options
    (sub,) = synth.resources("AWS::SNS::Subscription").values()
    assert sub["Properties"]["Protocol"] == "email" and sub["Properties"]["Endpoint"] == "ops@example.com"
    select = function(synth, "pipeline_select")
    assert select["Environment"]["Variables"]["KLYPH_SELECTOR"] == "bedrock"
    assert {function(synth, h)["Environment"]["Variables"]["KLYPH_PREPARE_ON_UPLOAD"] for h in ALL} == {"0"}
    assert select["Environment"]["Variables"]["KLYPH_BEDROCK_MODEL_ID"] == "amazon.nova-lite-v1:0"
    granted = {h: actions_on(role_statements(synth, h)) for h in ALL}
    assert [h for h in ALL if any(a.startswith("bedrock:") for a in granted[h])] == ["pipeline_select"]
    assert [joined(r) for r in granted["pipeline_select"]["bedrock:InvokeModel"]] == [
        "arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/amazon.nova-lite-v1:0"]
    bucket = only(synth.resources("AWS::S3::Bucket"))["Properties"]
    assert bucket["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == ["https://app.example.com"]
    sm = only(synth.resources("AWS::StepFunctions::StateMachine"))["Properties"]
    assert json.loads(sm["DefinitionString"])["States"]["RenderClips"]["MaxConcurrency"] == 4


def test_deployment_package_is_built_for_the_lambda_runtime(synth):
    import zipfile

    code = function(synth, API)["CodeUri"]["Key"]
    names = zipfile.ZipFile(synth.asset(code)).namelist()
    assert any(re.search(r"_pydantic_core\.cpython-312-x86_64-linux-gnu\.so$", n) for n in names)
    assert "app.py" in names and "chalicelib/statemachine.py" in names
    assert not any(n.startswith(("numpy/", "faster_whisper/", "ctranslate2/", "imageio_ffmpeg/", "botocore/"))
                   for n in names)


def test_cfn_lint_is_clean(synth):
    # W3005: CDK adds DependsOn next to GetAtt for roles it wires; harmless.
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    proc = subprocess.run([cfn_lint, "--ignore-checks", "W3005", "--", str(synth.template_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_webhook_secrets_key_rotates_and_only_the_api_and_the_delivery_task_use_it(synth):
    (key_id, key), = synth.resources("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    granted = {h: actions_on(role_statements(synth, h)) for h in ALL}
    users = {h: sorted(a for a in g if a.startswith("kms:")) for h, g in granted.items() if any(
        a.startswith("kms:") for a in g)}
    # The API seals new secrets (and opens the copy in an Idempotency-Key replay); only the
    # delivery task opens them to sign.
    assert users == {API: ["kms:Decrypt", "kms:Encrypt"], DELIVERY: ["kms:Decrypt"]}
    for handler in users:
        statements = [st for st in role_statements(synth, handler)
                      if any(a.startswith("kms:") for a in as_list(st["Action"]))]
        assert all(st["Resource"] == key_arn for st in statements)
        assert all(st["Condition"] == {"StringLike": {"kms:EncryptionContext:klyph:webhookId": "wh_*"}}
                   for st in statements), "the key seals webhook secrets and nothing else"
        assert function(synth, handler)["Environment"]["Variables"]["KLYPH_WEBHOOK_KMS_KEY_ID"] == key_arn
    assert "KLYPH_WEBHOOK_KMS_KEY_ID" not in function(synth, "pipeline_finalize")["Environment"]["Variables"]


def test_webhook_deliveries_run_in_the_pipeline_state_machine_with_a_small_function(synth):
    sm = only(synth.resources("AWS::StepFunctions::StateMachine"))["Properties"]
    states = json.loads(sm["DefinitionString"])["States"]
    assert json.loads(sm["DefinitionString"])["StartAt"] == "Route"
    assert states["Route"]["Choices"] == [
        {"Variable": "$$.Execution.Name", "StringMatches": "dlv_*", "Next": "DeliverWebhook"},
        {"Variable": "$$.Execution.Name", "StringMatches": "edt_*", "Next": "PlanEditReframe"},
        {"Variable": "$$.Execution.Name", "StringMatches": "prp_*", "Next": "PrepareSource"}]
    # A clip's re-render (update-clip) runs the job's reframe and render functions on its one clip.
    assert states["PlanEditReframe"]["Resource"] == "${pipeline_reframe}"
    assert states["RenderEdit"]["Resource"] == "${pipeline_render}"
    assert states["Route"]["Default"] == "Prepare"
    assert states["DeliverWebhook"]["Resource"] == "${pipeline_deliver_webhook}"
    assert states["WaitBeforeRedelivery"] == {"Type": "Wait", "SecondsPath": "$.delivery.waitSeconds",
                                              "Next": "DeliverWebhook"}
    props = function(synth, DELIVERY)
    assert (props["MemorySize"], props["Timeout"]) == (256, 30)
    assert props.get("Layers") and not any("ffmpeg" in json.dumps(layer) for layer in props["Layers"])
    granted = actions_on(role_statements(synth, DELIVERY))
    assert not any(a.startswith(("s3:", "states:")) for a in granted)


def test_given_up_webhook_deliveries_alarm(synth):
    (topic,) = synth.resources("AWS::SNS::Topic")
    [alarm] = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
               if a["Properties"].get("MetricName") == "WebhookDeliveriesGivenUp"]
    assert alarm["Namespace"] == "Klyph" and alarm["Dimensions"] == [{"Name": "service", "Value": "klyph"}]
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [{"Ref": topic}]
    assert "list-webhook-deliveries" in alarm["AlarmDescription"]


def test_operators_dashboard_shows_every_function_alarm_and_metric_we_emit(synth):
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "klyph-prod"
    body = joined(dashboard["Properties"]["DashboardBody"])
    titles = re.findall(r'"title":"([^"]+)"', body)
    for expected in ("Jobs per hour: started, succeeded, failed", "Time per stage, p50 (ms)",
                     "Time per stage, p95 (ms)", "Clips rendered and failed", "Transcribe wait (s)",
                     "Function errors", "Function throttles",
                     "Function duration p95 (ms)", "API 4xx and 5xx", "API latency (ms)", "Webhook deliveries failing",
                     "On-failure queue: upload events to redrive", "Alarms"):
        assert expected in titles, (expected, titles)
    for handler in ALL:
        assert f'"{function(synth, handler)["FunctionName"]}"' in body, handler
    # Every alarm is on it, and every metric app.py records is read by the name it records.
    for alarm_id in synth.resources("AWS::CloudWatch::Alarm"):
        assert f"<{alarm_id}.Arn>" in body, alarm_id
    emitted = set(re.findall(r'add_metric\(name="(\w+)"', (ROOT / "app.py").read_text()))
    assert emitted >= {"ClipsRendered", "ClipsFailed", "JobsFailed", "TranscribeWaitSeconds",
                       "WebhookDeliveriesGivenUp"}
    for name in emitted:
        assert f'"{name}"' in body or f'\\"{name}\\"' in body, name
    api = only(synth.resources("AWS::Serverless::Api"))["Properties"]
    assert api["Name"] == "klyph-prod" and '"ApiName","klyph-prod","Stage","api"' in body
    outputs = synth.template["Outputs"]
    assert "dashboards:name=klyph-prod" in joined(outputs["DashboardUrl"]["Value"])

#!/usr/bin/env python3
"""boto3 conformance check for the sc-assoc local Service Catalog.

Drives every operation the local catalog serves through boto3/botocore -- an independent client
generated from the same AWS model -- and checks answers, error codes, paginators and idempotency
token replay. Exits non-zero on the first group of mismatches.

Usage (against a FRESH server seeded with tests/fixtures/catalog/basic.yaml; the script changes
its associations), once per wire protocol:

    cargo run -- local-catalog --seed tests/fixtures/catalog/basic.yaml --listen 127.0.0.1:8642 &
    python3 tests/boto3_conformance.py http://127.0.0.1:8642 json    # or: cbor
    # or: SC_ASSOC_ENDPOINT=http://127.0.0.1:8642 python3 tests/boto3_conformance.py

and once more as `... accounts` against a fresh server seeded with
tests/fixtures/catalog/accounts.yaml: boto3's own STS client (Query protocol, XML) assumes roles
at the same endpoint, and Service Catalog clients built from the credentials it returns see the
role's account, region by region. `... organizations` against tests/fixtures/catalog/organization.yaml
drives AWS Organizations' listings (AWS JSON 1.1) through boto3's own client and paginators.

Protocols: Service Catalog serves AWS JSON 1.1 and Smithy RPC v2 CBOR; the newest botocore model
lists `protocols: ["smithy-rpc-v2-cbor", "json"]`, and botocore picks the first of those found in
its own priority list (`botocore.utils.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS`, where `json` comes
first). To make botocore speak the protocol asked for, `speak()` below patches two things in this
process only, before any client exists: it moves that protocol to the front of the priority list,
and, if the installed botocore's servicecatalog model does not declare the protocol (models older
than the CBOR release list only "json"), it adds it to the loaded model's `protocols`, as the
current model has it. botocore's own serializer and parser then do all the encoding: nothing here
writes CBOR by hand. A hook records every request, so the script also checks that the wire really
was the one asked for.
"""

import datetime
import os
import sys
import uuid

import boto3
import botocore.loaders
import botocore.model
import botocore.serialize
import botocore.session
import botocore.utils
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

PROTOCOLS = {"json": "json", "cbor": "smithy-rpc-v2-cbor"}
SESSION = None
SENT = []

FAILURES = []
PASSED = []


def check(cond, what):
    if cond:
        PASSED.append(what)
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        FAILURES.append(what)


def expect_error(code, what, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        rid = e.response["ResponseMetadata"].get("RequestId")
        check(got == code and bool(rid), f"{what}: {code} (got {got}, request id {rid!r})")
        return e
    check(False, f"{what}: expected {code}, got success {result!r}")
    return None


def speak(protocol):
    """Makes botocore, in this process, resolve `protocol` for servicecatalog (see the docstring)."""
    global SESSION
    if protocol not in botocore.serialize.SERIALIZERS:
        sys.exit(f"FAIL this botocore ({botocore.__version__}) cannot serialize {protocol}")
    order = (protocol,) + tuple(p for p in botocore.utils.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p != protocol)
    # model.py imported the tuple by name, so both bindings are replaced.
    botocore.utils.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = order
    botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = order
    original = botocore.loaders.Loader.load_service_model

    def load_service_model(self, service_name, type_name, api_version=None):
        model = original(self, service_name, type_name, api_version)
        if service_name == "servicecatalog" and type_name == "service-2":
            metadata = model.setdefault("metadata", {})
            declared = metadata.get("protocols") or [metadata.get("protocol", "json")]
            if protocol not in declared:
                metadata["protocols"] = [protocol] + list(declared)
        return model

    botocore.loaders.Loader.load_service_model = load_service_model
    SESSION = boto3.Session(botocore_session=botocore.session.get_session())


def record(request, **_):
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    SENT.append((request.url, headers))


def client(endpoint, **config):
    sc = SESSION.client(
        "servicecatalog",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )
    sc.meta.events.register("before-send.servicecatalog", record)
    return sc


def paginate(sc, op, key, **kwargs):
    pages = list(sc.get_paginator(op).paginate(**kwargs))
    return pages, [item for page in pages for item in page.get(key, [])]


def main():
    endpoint = (sys.argv[1] if len(sys.argv) > 1 else None) or os.environ.get("SC_ASSOC_ENDPOINT")
    wire = sys.argv[2] if len(sys.argv) > 2 else "json"
    if endpoint and wire in ("accounts", "organizations"):
        speak("json")
        (accounts if wire == "accounts" else organizations)(endpoint)
        print(f"\nboto3-{wire}: {len(PASSED)} passed, {len(FAILURES)} failed")
        sys.exit(1 if FAILURES else 0)
    if not endpoint or wire not in PROTOCOLS:
        sys.exit("usage: boto3_conformance.py ENDPOINT_URL [json|cbor|accounts|organizations] "
                 "(or set SC_ASSOC_ENDPOINT)")
    protocol = PROTOCOLS[wire]
    speak(protocol)
    print(f"botocore {botocore.__version__}, protocol {protocol}")
    sc = client(endpoint)
    # botocore checks some constraints itself (required members, minimum lengths); this client
    # skips that so the server's own validation is what answers.
    raw = client(endpoint, parameter_validation=False)
    check(sc.meta.service_model.resolved_protocol == protocol, f"botocore resolves {protocol}")
    first = sc.list_service_actions(PageSize=1)
    content_type = first["ResponseMetadata"]["HTTPHeaders"].get("content-type")
    wanted_type = "application/cbor" if wire == "cbor" else "application/x-amz-json-1.1"
    check(content_type == wanted_type, f"the answer comes back as {wanted_type} (got {content_type})")

    # --- ListServiceActions, with the paginator and small pages -----------------------------
    pages, actions = paginate(sc, "list_service_actions", "ServiceActionSummaries",
                              PaginationConfig={"PageSize": 1})
    check([a["Id"] for a in actions] == ["act-backup", "act-patch", "act-restart"],
          "ListServiceActions lists every action in id order across pages")
    check(len(pages) == 3 and "NextPageToken" not in pages[-1], "one action per page, last page has no token")
    check(all(a["DefinitionType"] == "SSM_AUTOMATION" for a in actions), "summaries carry DefinitionType")
    expect_error("ValidationException", "PageSize 21", raw.list_service_actions, PageSize=21)
    expect_error("InvalidParametersException", "forged page token", sc.list_service_actions, PageToken="00ff")

    # --- DescribeServiceAction -------------------------------------------------------------
    detail = sc.describe_service_action(Id="act-patch")["ServiceActionDetail"]
    check(detail["ServiceActionSummary"]["Name"] == "Patch", "DescribeServiceAction summary")
    check(detail["Definition"].get("Name") == "AWS-RunPatchBaseline", "DescribeServiceAction definition map")
    expect_error("ResourceNotFoundException", "describe unknown action", sc.describe_service_action, Id="act-nope")
    expect_error("ValidationException", "describe action id of 101 chars",
                 sc.describe_service_action, Id="a" * 101)

    # --- SearchProductsAsAdmin -------------------------------------------------------------
    pages, products = paginate(sc, "search_products_as_admin", "ProductViewDetails",
                               Filters={"FullTextSearch": ["WEB"]}, PaginationConfig={"PageSize": 1})
    names = [p["ProductViewSummary"]["Name"] for p in products]
    check(names == ["Web Cache", "Web Server"], f"FullTextSearch is case-insensitive substring, by title ({names})")
    check(len(pages) == 2, "search pages")
    check(isinstance(products[0]["CreatedTime"], datetime.datetime), "CreatedTime parses as a timestamp")
    _, all_products = paginate(sc, "search_products_as_admin", "ProductViewDetails")
    check(len(all_products) == 3, "search without filters returns every product")
    expect_error("ValidationException", "bad SortOrder enum", raw.search_products_as_admin, SortOrder="SIDEWAYS")
    expect_error("ResourceNotFoundException", "unknown portfolio", sc.search_products_as_admin, PortfolioId="port-nope")

    # --- DescribeProductAsAdmin / ListProvisioningArtifacts / DescribeProvisioningArtifact ---
    by_id = sc.describe_product_as_admin(Id="prod-web")
    by_name = sc.describe_product_as_admin(Name="Web Server")
    check(by_id["ProductViewDetail"] == by_name["ProductViewDetail"], "DescribeProductAsAdmin by Id and by Name agree")
    check([a["Id"] for a in by_id["ProvisioningArtifactSummaries"]] == ["pa-web-v1", "pa-web-v2", "pa-web-v0"],
          "artifact summaries in creation order")
    expect_error("ResourceNotFoundException", "describe unknown product", sc.describe_product_as_admin, Id="prod-nope")
    expect_error("InvalidParametersException", "describe product without Id or Name", sc.describe_product_as_admin)

    details = sc.list_provisioning_artifacts(ProductId="prod-web")["ProvisioningArtifactDetails"]
    v0 = [d for d in details if d["Id"] == "pa-web-v0"]
    check(len(details) == 3 and v0 and v0[0]["Active"] is False and v0[0]["Guidance"] == "DEPRECATED",
          "ListProvisioningArtifacts reports Active and Guidance")
    expect_error("ResourceNotFoundException", "list artifacts of unknown product",
                 sc.list_provisioning_artifacts, ProductId="prod-nope")

    pa = sc.describe_provisioning_artifact(ProductName="Web Server", ProvisioningArtifactName="v2", Verbose=True)
    check(pa["ProvisioningArtifactDetail"]["Id"] == "pa-web-v2" and pa["Status"] == "AVAILABLE",
          "DescribeProvisioningArtifact by names")
    check("TemplateUrl" in pa.get("Info", {}), "Verbose adds Info")
    expect_error("ResourceNotFoundException", "artifact of another product",
                 sc.describe_provisioning_artifact, ProductId="prod-db", ProvisioningArtifactId="pa-web-v1")

    # --- Associate / Disassociate, and the stale-token trap --------------------------------
    token = "tok-" + uuid.uuid4().hex
    sc.associate_service_action_with_provisioning_artifact(
        ProductId="prod-web", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup", IdempotencyToken=token)
    check(True, "associate act-backup with pa-web-v1")
    expect_error("DuplicateResourceException", "associate again with a fresh token",
                 sc.associate_service_action_with_provisioning_artifact,
                 ProductId="prod-web", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup")
    expect_error("ResourceNotFoundException", "associate an artifact of another product",
                 sc.associate_service_action_with_provisioning_artifact,
                 ProductId="prod-db", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup")
    expect_error("ValidationException", "associate without ServiceActionId",
                 raw.associate_service_action_with_provisioning_artifact,
                 ProductId="prod-web", ProvisioningArtifactId="pa-web-v1")

    pages, listed = paginate(sc, "list_service_actions_for_provisioning_artifact", "ServiceActionSummaries",
                             ProductId="prod-web", ProvisioningArtifactId="pa-web-v1",
                             PaginationConfig={"PageSize": 1})
    check([a["Id"] for a in listed] == ["act-backup", "act-restart"] and len(pages) == 2,
          "ListServiceActionsForProvisioningArtifact pages")
    _, views = paginate(sc, "list_provisioning_artifacts_for_service_action", "ProvisioningArtifactViews",
                        ServiceActionId="act-backup", PaginationConfig={"PageSize": 1})
    pairs = [(v["ProductViewSummary"]["ProductId"], v["ProvisioningArtifact"]["Id"]) for v in views]
    check(pairs == [("prod-db", "pa-db-v1"), ("prod-web", "pa-web-v1")],
          f"ListProvisioningArtifactsForServiceAction pages ({pairs})")

    sc.disassociate_service_action_from_provisioning_artifact(
        ProductId="prod-web", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup")
    expect_error("ResourceNotFoundException", "disassociate what is not associated",
                 sc.disassociate_service_action_from_provisioning_artifact,
                 ProductId="prod-web", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup")
    # Replaying the first token returns its remembered success and associates nothing.
    sc.associate_service_action_with_provisioning_artifact(
        ProductId="prod-web", ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-backup", IdempotencyToken=token)
    _, listed = paginate(sc, "list_service_actions_for_provisioning_artifact", "ServiceActionSummaries",
                         ProductId="prod-web", ProvisioningArtifactId="pa-web-v1")
    check([a["Id"] for a in listed] == ["act-restart"], "replayed token answers success but associates nothing")

    # --- Batch calls -----------------------------------------------------------------------
    items = [
        {"ServiceActionId": "act-patch", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v2"},
        {"ServiceActionId": "act-restart", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1"},
        {"ServiceActionId": "act-nope", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v2"},
    ]
    failed = sc.batch_associate_service_action_with_provisioning_artifact(
        ServiceActionAssociations=items)["FailedServiceActionAssociations"]
    codes = [(f["ServiceActionId"], f["ErrorCode"]) for f in failed]
    check(codes == [("act-restart", "DUPLICATE_RESOURCE"), ("act-nope", "RESOURCE_NOT_FOUND")],
          f"batch associate reports per-item codes ({codes})")
    check(all(f.get("ErrorMessage") for f in failed), "failed items carry ErrorMessage")
    failed = sc.batch_disassociate_service_action_from_provisioning_artifact(
        ServiceActionAssociations=items[:1] * 2)["FailedServiceActionAssociations"]
    check([f["ErrorCode"] for f in failed] == ["RESOURCE_NOT_FOUND"],
          "batch disassociate: second copy of the item is not found")
    expect_error("ValidationException", "batch of 0", raw.batch_associate_service_action_with_provisioning_artifact,
                 ServiceActionAssociations=[])
    expect_error("ValidationException", "batch of 51",
                 raw.batch_disassociate_service_action_from_provisioning_artifact,
                 ServiceActionAssociations=items[:1] * 51)
    # A batch with one member that breaks the id pattern fails as a whole: nothing is applied.
    bad_batch = [
        {"ServiceActionId": "act-backup", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1"},
        {"ServiceActionId": "act backup", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1"},
    ]
    e = expect_error("ValidationException", "batch with an invalid member",
                     sc.batch_associate_service_action_with_provisioning_artifact,
                     ServiceActionAssociations=bad_batch)
    message = e.response["Error"]["Message"] if e else ""
    check("Value 'act backup' at 'serviceActionAssociations.2.member.serviceActionId' failed to satisfy "
          "constraint: Member must satisfy regular expression pattern" in message,
          f"the message names the member as AWS does ({message!r})")
    _, listed = paginate(sc, "list_service_actions_for_provisioning_artifact", "ServiceActionSummaries",
                         ProductId="prod-web", ProvisioningArtifactId="pa-web-v1")
    check([a["Id"] for a in listed] == ["act-restart"], "no item of the refused batch was applied")
    try:
        sc.batch_associate_service_action_with_provisioning_artifact(ServiceActionAssociations=[])
        check(False, "botocore rejects a batch of 0 itself")
    except ParamValidationError:
        check(True, "botocore rejects a batch of 0 itself")

    # --- Create, Update and Delete ServiceAction ---------------------------------------------
    definition = {"Name": "AWS-RestartEC2Instance", "Version": "1",
                  "AssumeRole": "arn:aws:iam::123456789012:role/sc-actions",
                  "Parameters": '[{"Name":"InstanceId","Type":"TARGET"}]'}
    made = sc.create_service_action(Name="Restart-EC2", DefinitionType="SSM_AUTOMATION",
                                    Definition=definition, Description="restart it",
                                    IdempotencyToken="create-restart-ec2")["ServiceActionDetail"]
    made_id = made["ServiceActionSummary"]["Id"]
    check(made_id.startswith("act-") and made["ServiceActionSummary"]["Name"] == "Restart-EC2"
          and made["ServiceActionSummary"]["DefinitionType"] == "SSM_AUTOMATION"
          and made["Definition"] == definition, "CreateServiceAction answers with the action and its definition")
    again = sc.create_service_action(Name="Restart-EC2", DefinitionType="SSM_AUTOMATION",
                                     Definition=definition, IdempotencyToken="create-restart-ec2")
    check(again["ServiceActionDetail"]["ServiceActionSummary"]["Id"] == made_id,
          "CreateServiceAction with the same token answers with the same action")
    twin = sc.create_service_action(Name="Restart-EC2", DefinitionType="SSM_AUTOMATION",
                                    Definition=definition, IdempotencyToken="create-restart-ec2-b")
    check(twin["ServiceActionDetail"]["ServiceActionSummary"]["Id"] != made_id,
          "names are not unique: another token makes another action of the same name")
    expect_error("ValidationException", "create without DefinitionType", raw.create_service_action,
                 Name="X", Definition=definition, IdempotencyToken="create-x")
    expect_error("ValidationException", "a definition key outside the enum", raw.create_service_action,
                 Name="X", DefinitionType="SSM_AUTOMATION", Definition={"Name": "D", "Colour": "red"},
                 IdempotencyToken="create-x2")
    expect_error("ValidationException", "a definition value of 1025 characters", raw.create_service_action,
                 Name="X", DefinitionType="SSM_AUTOMATION", Definition={"Name": "D" * 1025},
                 IdempotencyToken="create-x3")
    expect_error("ValidationException", "an action name with a space", raw.create_service_action,
                 Name="Restart EC2", DefinitionType="SSM_AUTOMATION", Definition=definition,
                 IdempotencyToken="create-x4")
    updated = sc.update_service_action(Id=made_id, Definition=dict(definition, Version="2"))
    check(updated["ServiceActionDetail"]["Definition"]["Version"] == "2"
          and sc.describe_service_action(Id=made_id)["ServiceActionDetail"]["Definition"]["Version"] == "2",
          "UpdateServiceAction changes the definition")
    expect_error("ResourceNotFoundException", "update an unknown action", sc.update_service_action,
                 Id="act-nope", Description="x")
    expect_error("ResourceInUseException", "delete an associated action", sc.delete_service_action,
                 Id="act-restart", IdempotencyToken="delete-restart")
    sc.delete_service_action(Id=twin["ServiceActionDetail"]["ServiceActionSummary"]["Id"],
                             IdempotencyToken="delete-twin")
    expect_error("ResourceNotFoundException", "describe a deleted action", sc.describe_service_action,
                 Id=twin["ServiceActionDetail"]["ServiceActionSummary"]["Id"])
    replayed = sc.create_service_action(Name="Restart-EC2", DefinitionType="SSM_AUTOMATION",
                                        Definition=definition, IdempotencyToken="create-restart-ec2-b")
    check(replayed["ServiceActionDetail"]["ServiceActionSummary"]["Id"]
          == twin["ServiceActionDetail"]["ServiceActionSummary"]["Id"],
          "a token replays its first answer even after that action was deleted (the stale-token trap)")
    count = len(paginate(sc, "list_service_actions", "ServiceActionSummaries")[1])
    made_more = 0
    limit = None
    while made_more < 250:
        try:
            sc.create_service_action(Name=f"Filler{made_more}", DefinitionType="SSM_AUTOMATION",
                                     Definition={"Name": "D", "Version": "1"},
                                     IdempotencyToken=f"filler-{made_more}")
            made_more += 1
        except ClientError as e:
            limit = e.response["Error"]["Code"]
            break
    check(limit == "LimitExceededException" and count + made_more == 200,
          f"the 201st action in a region is refused: {limit} after {count + made_more}")

    # --- Whole-value patterns ---------------------------------------------------------------
    e = expect_error("ValidationException", "an id with a space", sc.describe_service_action, Id="act patch")
    check(e is not None and e.response["Error"]["Message"] == (
        "1 validation error detected: Value 'act patch' at 'id' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-]*"), "AWS's wording for a pattern failure")
    for token in ["-x", "a.b"]:
        expect_error("ValidationException", f"idempotency token {token!r}",
                     sc.associate_service_action_with_provisioning_artifact, ProductId="prod-web",
                     ProvisioningArtifactId="pa-web-v1", ServiceActionId="act-patch", IdempotencyToken=token)

    # --- Authentication --------------------------------------------------------------------
    unsigned = client(endpoint, signature_version=UNSIGNED)
    expect_error("MissingAuthenticationTokenException", "unsigned request", unsigned.list_service_actions)

    # --- The wire itself -------------------------------------------------------------------
    cbor_sent = [u for u, h in SENT if h.get("smithy-protocol") == "rpc-v2-cbor"
                 and h.get("content-type") == "application/cbor" and "x-amz-target" not in h
                 and "/service/AWS242ServiceCatalogService/operation/" in u]
    json_sent = [u for u, h in SENT if h.get("x-amz-target", "").startswith("AWS242ServiceCatalogService.")
                 and h.get("content-type") == "application/x-amz-json-1.1" and "smithy-protocol" not in h]
    sent = cbor_sent if wire == "cbor" else json_sent
    check(len(SENT) > 30 and len(sent) == len(SENT),
          f"every one of the {len(SENT)} requests went over {protocol} ({len(sent)} did)")

    print(f"\nboto3-{wire}: {len(PASSED)} passed, {len(FAILURES)} failed")
    sys.exit(1 if FAILURES else 0)


HUB, SPOKE_A, SPOKE_B = "111111111111", "222222222222", "333333333333"


def sts_client(endpoint, key, secret="x", token=None, **config):
    return SESSION.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config))


def catalog_as(endpoint, region, creds):
    return SESSION.client("servicecatalog", endpoint_url=endpoint, region_name=region,
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}), **creds)


def web_server(sc):
    return sc.describe_product_as_admin(Name="Web Server")["ProductViewDetail"]["ProductViewSummary"]["ProductId"]


def accounts(endpoint):
    """STS AssumeRole and per-account, per-region catalogs (seed: tests/fixtures/catalog/accounts.yaml)."""
    print(f"botocore {botocore.__version__}, STS over the Query protocol, accounts and regions")
    hub_keys = {"aws_access_key_id": "AKIDHUB", "aws_secret_access_key": "x"}
    sts = sts_client(endpoint, "AKIDHUB")
    me = sts.get_caller_identity()
    check(me["Account"] == HUB and me["Arn"] == f"arn:aws:iam::{HUB}:user/hub",
          f"GetCallerIdentity names the hub ({me.get('Arn')})")
    check(bool(me["ResponseMetadata"].get("RequestId")), "the request id is parsed from the XML")

    role = f"arn:aws:iam::{SPOKE_A}:role/ServiceCatalogAdmin"
    out = sts.assume_role(RoleArn=role, RoleSessionName="boto3")
    creds, user = out["Credentials"], out["AssumedRoleUser"]
    left = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    check(creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20,
          f"AssumeRole issues an ASIA key ({creds['AccessKeyId']})")
    check(3500 < left <= 3600, f"Expiration parses as a datetime an hour ahead ({left:.0f} s)")
    check(user["Arn"] == f"arn:aws:sts::{SPOKE_A}:assumed-role/ServiceCatalogAdmin/boto3"
          and user["AssumedRoleId"].endswith(":boto3"), f"AssumedRoleUser ({user})")
    spoke_keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                  "aws_session_token": creds["SessionToken"]}
    spoke_me = sts_client(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                          creds["SessionToken"]).get_caller_identity()
    check(spoke_me["Account"] == SPOKE_A, "the issued credentials belong to the role's account")

    # The same name, a different product in each account and region.
    hub_east, hub_west = catalog_as(endpoint, "us-east-1", hub_keys), catalog_as(endpoint, "eu-west-1", hub_keys)
    spoke = catalog_as(endpoint, "us-east-1", spoke_keys)
    ids = (web_server(hub_east), web_server(hub_west), web_server(spoke))
    check(ids == ("prod-hub-web", "prod-hubeu-web", "prod-a-web"), f"'Web Server' resolves per target {ids}")
    spoke.associate_service_action_with_provisioning_artifact(
        ProductId="prod-a-web", ProvisioningArtifactId="pa-a-web-v1", ServiceActionId="act-a-restart")
    listed = spoke.list_service_actions_for_provisioning_artifact(
        ProductId="prod-a-web", ProvisioningArtifactId="pa-a-web-v1")["ServiceActionSummaries"]
    check([a["Id"] for a in listed] == ["act-a-restart"], "a write in the spoke is there")
    expect_error("ResourceNotFoundException", "the spoke's product is unknown to the hub",
                 hub_east.list_service_actions_for_provisioning_artifact,
                 ProductId="prod-a-web", ProvisioningArtifactId="pa-a-web-v1")
    expect_error("UnrecognizedClientException", "a region the spoke has not enabled",
                 catalog_as(endpoint, "eu-west-1", spoke_keys).list_service_actions)
    no_token = dict(spoke_keys, aws_session_token=None)
    expect_error("UnrecognizedClientException", "an issued key without its session token",
                 catalog_as(endpoint, "us-east-1", no_token).list_service_actions)

    # Refusals, in STS's codes and wording.
    e = expect_error("AccessDenied", "a role that does not trust the hub", sts.assume_role,
                     RoleArn=f"arn:aws:iam::{SPOKE_A}:role/Locked", RoleSessionName="boto3")
    check(e is not None and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
          and e.response["Error"]["Message"] == (f"User: arn:aws:iam::{HUB}:user/hub is not authorized to perform: "
                                                 f"sts:AssumeRole on resource: arn:aws:iam::{SPOKE_A}:role/Locked"),
          "AccessDenied is HTTP 403 with STS's message")
    check(e is not None and e.response["Error"].get("Type") == "Sender", "the error's Type is Sender")
    expect_error("AccessDenied", "an unknown role", sts.assume_role,
                 RoleArn=f"arn:aws:iam::{SPOKE_A}:role/Nobody", RoleSessionName="boto3")
    b_role = f"arn:aws:iam::{SPOKE_B}:role/ServiceCatalogAdmin"
    expect_error("AccessDenied", "a missing external id", sts.assume_role, RoleArn=b_role, RoleSessionName="boto3")
    expect_error("AccessDenied", "a wrong external id", sts.assume_role, RoleArn=b_role,
                 RoleSessionName="boto3", ExternalId="guess")
    b = sts.assume_role(RoleArn=b_role, RoleSessionName="boto3", ExternalId="hub-7f3a", DurationSeconds=7200)
    b_left = (b["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    check(7100 < b_left <= 7200, "the right external id and a longer session the role allows")
    raw = sts_client(endpoint, "AKIDHUB", parameter_validation=False)
    e = expect_error("ValidationError", "a session name outside [\\w+=,.@-]*", raw.assume_role,
                     RoleArn=role, RoleSessionName="a:b")
    check(e is not None and e.response["Error"]["Message"] == (
        "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*"), "STS's wording for a pattern failure")
    e = expect_error("ValidationError", "DurationSeconds below 900", raw.assume_role,
                     RoleArn=role, RoleSessionName="boto3", DurationSeconds=899)
    check(e is not None and "Member must have value greater than or equal to 900" in e.response["Error"]["Message"],
          "STS's wording for a range failure")
    expect_error("ValidationError", "a duration above the role's MaxSessionDuration", sts.assume_role,
                 RoleArn=role, RoleSessionName="boto3", DurationSeconds=7200)
    expect_error("InvalidClientTokenId", "an unknown access key", sts_client(endpoint, "AKIDNOBODY").get_caller_identity)
    expect_error("MissingAuthenticationToken", "an unsigned STS request",
                 sts_client(endpoint, "AKIDHUB", signature_version=UNSIGNED).get_caller_identity)


def organizations(endpoint):
    """AWS Organizations' listings (seed: tests/fixtures/catalog/organization.yaml)."""
    print(f"botocore {botocore.__version__}, AWS Organizations over AWS JSON 1.1")

    def org_as(key, **config):
        return SESSION.client("organizations", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key="x", config=Config(**config))

    org = org_as("AKIDMGMT")
    described = org.describe_organization()["Organization"]
    check(described["MasterAccountId"] == "111111111111" and described["Id"].startswith("o-"),
          f"DescribeOrganization names the management account ({described})")
    roots = org.list_roots()["Roots"]
    check([r["Id"] for r in roots] == ["r-c0nf"], f"ListRoots ({roots})")
    check(roots[0].get("Arn", "").startswith("arn:aws:organizations::111111111111:root/o-"),
          f"a root has its ARN ({roots[0]})")
    top = [u["Id"] for u in org.list_organizational_units_for_parent(ParentId="r-c0nf")["OrganizationalUnits"]]
    check(top == ["ou-c0nf-00000001", "ou-c0nf-00000003"], f"the root's units ({top})")
    below = org.list_organizational_units_for_parent(ParentId="ou-c0nf-00000001")["OrganizationalUnits"]
    check([u["Id"] for u in below] == ["ou-c0nf-00000002"] and below[0]["Name"] == "Prod"
          and below[0].get("Arn", "").endswith("/ou-c0nf-00000002"), f"a nested unit ({below})")
    unit = org.describe_organizational_unit(OrganizationalUnitId="ou-c0nf-00000002")["OrganizationalUnit"]
    check(unit["Name"] == "Prod", f"DescribeOrganizationalUnit ({unit})")

    # 25 accounts below Prod: boto3's paginator follows the server's NextToken.
    pages = list(org.get_paginator("list_accounts_for_parent").paginate(ParentId="ou-c0nf-00000002"))
    accounts = [a for page in pages for a in page["Accounts"]]
    check(len(pages) == 2 and len(pages[0]["Accounts"]) == 20, f"pages of at most 20 ({[len(p['Accounts']) for p in pages]})")
    check(len(accounts) == 25 and len({a["Id"] for a in accounts}) == 25, "every account once")
    suspended = [a for a in accounts if a["Status"] != "ACTIVE"]
    check([(a["Id"], a["Status"], a.get("State")) for a in suspended] == [("400000000007", "SUSPENDED", "SUSPENDED")],
          f"a suspended account carries Status and State ({suspended})")
    first = accounts[0]
    check(first.get("Arn", "").startswith("arn:aws:organizations::111111111111:account/o-")
          and first["Arn"].endswith("/" + first["Id"]) and "@" in first.get("Email", ""),
          f"an account has its ARN and email ({first})")
    small = org.list_accounts_for_parent(ParentId="ou-c0nf-00000002", MaxResults=5)
    check(len(small["Accounts"]) == 5 and "NextToken" in small, "MaxResults is honoured")
    children = list(org.get_paginator("list_children").paginate(ParentId="r-c0nf", ChildType="ACCOUNT"))
    check([c["Id"] for page in children for c in page["Children"]] == ["111111111111"], "ListChildren of accounts")
    children = org.list_children(ParentId="r-c0nf", ChildType="ORGANIZATIONAL_UNIT")["Children"]
    check([c["Type"] for c in children] == ["ORGANIZATIONAL_UNIT"] * 2, "ListChildren of units")
    delegated = org_as("AKIDDELEGATE").list_accounts_for_parent(ParentId="ou-c0nf-00000001")["Accounts"]
    check([a["Id"] for a in delegated] == ["222222222222"], "a delegated administrator may list")

    # Refusals, in Organizations' codes.
    expect_error("AccessDeniedException", "a member account", org_as("AKIDMEMBER").list_roots)
    expect_error("ParentNotFoundException", "an OU that does not exist", org.list_accounts_for_parent,
                 ParentId="ou-c0nf-99999999")
    expect_error("OrganizationalUnitNotFoundException", "DescribeOrganizationalUnit of an unknown OU",
                 org.describe_organizational_unit, OrganizationalUnitId="ou-c0nf-99999999")
    raw = org_as("AKIDMGMT", parameter_validation=False)
    expect_error("InvalidInputException", "a ParentId outside the pattern", raw.list_accounts_for_parent,
                 ParentId="222222222222")
    expect_error("InvalidInputException", "MaxResults above 20", raw.list_accounts_for_parent,
                 ParentId="r-c0nf", MaxResults=21)
    expect_error("InvalidInputException", "a page token the server did not make", org.list_accounts_for_parent,
                 ParentId="r-c0nf", NextToken="forged")
    expect_error("UnrecognizedClientException", "an unknown access key", org_as("AKIDNOBODY").list_roots)


if __name__ == "__main__":
    main()

"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

Written out by hand (small helpers keep it short) so that it says what the API promises;
schemathesis checks the running API against it.
"""

from __future__ import annotations

import functools
from typing import Any

from faxgate.faxadmin.faxlists import MAX_PAGE_SIZE, RECEIVED_STATES, SENT_STATES
from faxgate.faxadmin.web import MAX_ID

JSON = "application/json"
Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str) -> Schema:
    return {"type": [kind, "null"]}


def obj(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def json_answer(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERROR = json_answer("Error", ref("Error"))


def answers(ok_status: str, ok: Schema, *errors: str) -> Schema:
    result: Schema = {ok_status: ok, "401": ERROR}
    for status in errors:
        result[status] = ERROR
    return result


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def query_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


LIST_PARAMS = [
    query_param("after", {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?_[0-9]+$"}, "cursor: the `next` of the previous page"),
    query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, "rows per page"),
    query_param("date_from", {"type": "string", "format": "date"}, "from this day (YYYY-MM-DD, local time)"),
    query_param("date_to", {"type": "string", "format": "date"}, "to this day, inclusive"),
    query_param("number", {"type": "string", "maxLength": 200}, "fax number contains"),
    query_param("user", {"type": "string", "maxLength": 200}, "owner (sent) or extension (received); admins only"),
    query_param("q", {"type": "string", "maxLength": 200}, "search text"),
]  # fmt: skip

JOB = obj(
    {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "recipient_name": {"type": "string"},
        "state": {"type": "string", "enum": list(SENT_STATES)},
        "priority": {"type": "integer"},
        "owner": nullable("string"),
        "tag": {"type": "string"},
        "tries": {"type": "integer"},
        "max_tries": {"type": "integer"},
        "pages_total": {"type": "integer"},
        "pages_sent": {"type": "integer"},
        "line": nullable("string"),
        "remote_ident": nullable("string"),
        "last_outcome": nullable("string"),
        "last_error": nullable("string"),
        "created_at": {"type": "number"},
        "updated_at": {"type": "number"},
        "done_at": nullable("number"),
        "send_at": {"type": "number"},
        "next_try_at": nullable("number"),
    },
    ["id", "number", "state", "priority", "created_at"],
)
RECEIVED = obj(
    {
        "id": {"type": "integer"},
        "received_at": {"type": "number"},
        "dnid": {"type": "string"},
        "caller_id": {"type": "string"},
        "remote_ident": {"type": "string"},
        "pages": {"type": "integer"},
        "line": nullable("string"),
        "bit_rate": nullable("integer"),
        "ecm": nullable("boolean"),
        "duration": nullable("number"),
        "state": {"type": "string", "enum": list(RECEIVED_STATES)},
        "device_extension": nullable("string"),
    },
    ["id", "received_at", "dnid", "pages", "state"],
)
DEVICE = obj(
    {
        "extension": {"type": "string", "pattern": "^[0-9]{1,20}$"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["personal", "group"]},
        "format": {"type": "string", "enum": ["pdf", "tif", "inlinegif"]},
        "emails": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    ["extension", "name", "kind", "format", "emails"],
)
SETTING_VALUE: Schema = {
    "oneOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
    ]
}
SETTING = obj(
    {
        "key": {"type": "string"},
        "type": {"type": "string"},
        "value": SETTING_VALUE,
        "default": SETTING_VALUE,
        "source": {"type": "string"},
        "help": {"type": "string"},
        "pending": {"type": "boolean"},
        "pending_value": {"oneOf": [*SETTING_VALUE["oneOf"], {"type": "null"}]},
    },
    ["key", "type", "value", "default", "source", "help", "pending"],
)
SUBMITTED = obj(
    {"submission": {"type": "integer"}, "state": {"type": "string"}}, ["submission", "state"]
)
ACTION_RESULT = obj({"result": {"type": "string"}, "job": ref("Job")}, ["result", "job"])
LINE = obj(
    {
        "line": {"type": "string"},
        "state": {"type": "string"},
        "detail": {"type": "string"},
        "job": nullable("integer"),
    },
    ["line", "state"],
)
BINARY = {"type": "string", "format": "binary"}

JOB_ID = path_param("job_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "job id")
FAX_ID = path_param(
    "fax_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "received fax id"
)
EXTENSION = path_param("extension", {"type": "string", "pattern": "^[0-9]{1,20}$"}, "extension")
PRINT_JOB_ID = path_param(
    "print_job_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "held print job id"
)


def json_request(schema: Schema) -> Schema:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def paths() -> dict[str, Any]:
    def job_action(summary: str) -> Schema:
        return {
            "post": {
                "summary": summary,
                "parameters": [JOB_ID],
                "responses": answers("200", json_answer("Done", ACTION_RESULT), "404", "409"),
            }
        }

    return {
        "/jobs": {
            "get": {
                "summary": "Sent faxes (jobs), newest first; an ordinary user sees their own",
                "parameters": [
                    *LIST_PARAMS,
                    query_param("state", {"type": "string", "enum": list(SENT_STATES)}, "job state"),
                ],
                "responses": answers(
                    "200",
                    json_answer(
                        "A page of jobs",
                        obj(
                            {"jobs": {"type": "array", "items": ref("Job")}, "next": nullable("string")},
                            ["jobs", "next"],
                        ),
                    ),
                    "400",
                ),
            },
            "post": {
                "summary": "Submit a fax: documents and numbers (converted and queued within seconds)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": obj(
                                {
                                    "numbers": {"type": "string", "description": "one or more numbers, separated by commas or spaces"},
                                    "files": {"type": "array", "items": BINARY},
                                    "cover": {"type": "string", "description": "text of a first page"},
                                    "priority": {"type": "integer", "minimum": 0, "maximum": 255},
                                    "tag": {"type": "string"},
                                },
                                ["numbers", "files"],
                            )
                        }
                    },
                },
                "responses": answers("202", json_answer("Accepted", SUBMITTED), "400", "413", "415", "507"),
            },
        },
        "/jobs/{job_id}": {
            "get": {
                "summary": "One job with its calls",
                "parameters": [JOB_ID],
                "responses": answers("200", json_answer("The job", ref("Job")), "404"),
            },
            "delete": {
                "summary": "Cancel a job (a running call is stopped)",
                "parameters": [JOB_ID],
                "responses": answers("200", json_answer("Done", ACTION_RESULT), "404", "409"),
            },
        },
        "/jobs/{job_id}/cancel": job_action("Cancel a job"),
        "/jobs/{job_id}/retry": job_action("Send a waiting job now, or retry a failed one"),
        "/jobs/{job_id}/suspend": job_action("Hold a waiting job"),
        "/jobs/{job_id}/resume": job_action("Release a held job"),
        "/jobs/{job_id}/priority": {
            "post": {
                "summary": "Change a job's priority (0 first .. 255 last)",
                "parameters": [JOB_ID],
                "requestBody": json_request(
                    obj({"priority": {"type": "integer", "minimum": 0, "maximum": 255}}, ["priority"])
                ),
                "responses": answers("200", json_answer("Done", ACTION_RESULT), "400", "404", "409", "415"),
            }
        },
        "/jobs/{job_id}/download/{kind}": {
            "get": {
                "summary": "The sent document as PDF or TIFF",
                "parameters": [JOB_ID, path_param("kind", {"type": "string", "enum": ["pdf", "tiff"]}, "format")],
                "responses": answers(
                    "200",
                    {"description": "The document", "content": {"application/pdf": {"schema": BINARY}, "image/tiff": {"schema": BINARY}}},
                    "404",
                ),
            }
        },
        "/submissions/{submission_id}": {
            "get": {
                "summary": "What became of a submission (its jobs once converted)",
                "parameters": [path_param("submission_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "submission id")],
                "responses": answers(
                    "200",
                    json_answer(
                        "The submission",
                        obj(
                            {
                                "submission": {"type": "integer"},
                                "state": {"type": "string"},
                                "error": nullable("string"),
                                "jobs": {"type": "array", "items": ref("Job")},
                            },
                            ["submission", "state", "jobs"],
                        ),
                    ),
                    "404",
                ),
            }
        },
        "/received": {
            "get": {
                "summary": "Received faxes, newest first; an ordinary user sees those of their fax devices",
                "parameters": [
                    *LIST_PARAMS,
                    query_param("state", {"type": "string", "enum": list(RECEIVED_STATES)}, "state"),
                ],
                "responses": answers(
                    "200",
                    json_answer(
                        "A page of received faxes",
                        obj(
                            {"received": {"type": "array", "items": ref("Received")}, "next": nullable("string")},
                            ["received", "next"],
                        ),
                    ),
                    "400",
                ),
            }
        },
        "/received/{fax_id}": {
            "get": {
                "summary": "One received fax",
                "parameters": [FAX_ID],
                "responses": answers("200", json_answer("The fax", ref("Received")), "404"),
            }
        },
        "/received/{fax_id}/{kind}": {
            "get": {
                "summary": "Download a received fax as PDF or TIFF",
                "parameters": [FAX_ID, path_param("kind", {"type": "string", "enum": ["pdf", "tiff"]}, "format")],
                "responses": answers(
                    "200",
                    {"description": "The fax", "content": {"application/pdf": {"schema": BINARY}, "image/tiff": {"schema": BINARY}}},
                    "404",
                ),
            }
        },
        "/devices": {
            "get": {
                "summary": "Fax devices (administrators)",
                "responses": answers(
                    "200",
                    json_answer("The devices", obj({"devices": {"type": "array", "items": ref("Device")}}, ["devices"])),
                    "403",
                ),
            },
            "post": {
                "summary": "Create a fax device",
                "requestBody": json_request(
                    obj(
                        {
                            "extension": {"type": "string"},
                            "emails": {"type": "array", "items": {"type": "string"}},
                            "name": {"type": "string"},
                            "kind": {"type": "string", "enum": ["personal", "group"]},
                            "format": {"type": "string", "enum": ["pdf", "tif", "inlinegif"]},
                        },
                        ["extension", "emails"],
                    )
                ),
                "responses": answers("201", json_answer("Created", ref("Device")), "400", "403", "415"),
            },
        },
        "/devices/{extension}": {
            "get": {
                "summary": "One fax device",
                "parameters": [EXTENSION],
                "responses": answers("200", json_answer("The device", ref("Device")), "403", "404"),
            },
            "put": {
                "summary": "Change a fax device (fields left out stay)",
                "parameters": [EXTENSION],
                "requestBody": json_request(
                    obj(
                        {
                            "emails": {"type": "array", "items": {"type": "string"}},
                            "name": {"type": "string"},
                            "kind": {"type": "string", "enum": ["personal", "group"]},
                            "format": {"type": "string", "enum": ["pdf", "tif", "inlinegif"]},
                        }
                    )
                ),
                "responses": answers("200", json_answer("Changed", ref("Device")), "400", "403", "404", "415"),
            },
            "delete": {
                "summary": "Delete a fax device",
                "parameters": [EXTENSION],
                "responses": answers("204", {"description": "Deleted"}, "403", "404"),
            },
        },
        "/settings": {
            "get": {
                "summary": "Every settings key with value, default, source and pending change",
                "parameters": [query_param("q", {"type": "string"}, "key contains")],
                "responses": answers(
                    "200",
                    json_answer("The settings", obj({"settings": {"type": "array", "items": ref("Setting")}}, ["settings"])),
                    "403",
                ),
            }
        },
        "/settings/pending": {
            "get": {
                "summary": "Saved changes not yet applied",
                "responses": answers(
                    "200",
                    json_answer(
                        "Pending changes",
                        obj(
                            {
                                "pending": {
                                    "type": "array",
                                    "items": obj(
                                        {"key": {"type": "string"}, "changed_by": {"type": "string"}, "changed_at": {"type": "number"}},
                                        ["key", "changed_by", "changed_at"],
                                    ),
                                }
                            },
                            ["pending"],
                        ),
                    ),
                    "403",
                ),
            }
        },
        "/settings/apply": {
            "post": {
                "summary": "Apply every pending change (programs are restarted or reloaded as needed)",
                "responses": answers("200", json_answer("Applied", obj({"result": {"type": "string"}}, ["result"])), "403", "409"),
            }
        },
        "/settings/{name}": {
            "get": {
                "summary": "One settings key",
                "parameters": [path_param("name", {"type": "string"}, "key, e.g. sys.fax.configure.lines.count")],
                "responses": answers("200", json_answer("The key", ref("Setting")), "403", "404"),
            },
            "put": {
                "summary": "Save a pending change (value), or reset the key to its default",
                "parameters": [path_param("name", {"type": "string"}, "settings key")],
                "requestBody": json_request(
                    obj({"value": SETTING_VALUE, "reset": {"type": "boolean"}})
                ),
                "responses": answers("200", json_answer("Saved as pending", ref("Setting")), "400", "403", "404", "415"),
            },
        },
        "/cleanup": {
            "post": {
                "summary": "Run the cleanup (retention) now",
                "responses": answers(
                    "200",
                    json_answer(
                        "What was removed",
                        obj(
                            {"summary": {"type": "object", "additionalProperties": {"type": "integer"}}, "result": {"type": "string"}},
                            ["summary", "result"],
                        ),
                    ),
                    "403",
                ),
            }
        },
        "/lines": {
            "get": {
                "summary": "The fax lines and their state",
                "responses": answers(
                    "200", json_answer("Lines", obj({"lines": {"type": "array", "items": ref("Line")}}, ["lines"]))
                ),
            }
        },
        "/printjobs": {
            "get": {
                "summary": "Print jobs waiting for a fax number (an ordinary user sees their own)",
                "responses": answers(
                    "200",
                    json_answer(
                        "Held print jobs",
                        obj(
                            {
                                "printjobs": {
                                    "type": "array",
                                    "items": obj(
                                        {"id": {"type": "integer"}, "owner": nullable("string"), "title": {"type": "string"}, "created_at": {"type": "number"}},
                                        ["id", "title", "created_at"],
                                    ),
                                }
                            },
                            ["printjobs"],
                        ),
                    ),
                ),
            }
        },
        "/printjobs/{print_job_id}": {
            "delete": {
                "summary": "Delete a held print job",
                "parameters": [PRINT_JOB_ID],
                "responses": answers("204", {"description": "Deleted"}, "404"),
            }
        },
        "/printjobs/{print_job_id}/send": {
            "post": {
                "summary": "Fax a held print job to these numbers",
                "parameters": [PRINT_JOB_ID],
                "requestBody": json_request(
                    obj({"numbers": {"type": "array", "items": {"type": "string"}, "minItems": 1}}, ["numbers"])
                ),
                "responses": answers("202", json_answer("Accepted", SUBMITTED), "400", "404", "415", "507"),
            }
        },
    }  # fmt: skip


@functools.cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "faxgate REST API",
            "version": "1",
            "description": "Send faxes, watch the queue, read received faxes and administer the "
            "appliance. Authenticate with a personal API token (My account) as "
            "'Authorization: Bearer <token>'.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": obj(
                    {"title": {"type": "string"}, "description": {"type": "string"}}, ["title"]
                ),
                "Job": JOB,
                "Received": RECEIVED,
                "Device": DEVICE,
                "Setting": SETTING,
                "Line": LINE,
            },
        },
    }

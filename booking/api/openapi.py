"""The OpenAPI 3.1 description of /api/v1, kept by hand beside the views.

tests/web/test_api_contract.py validates real responses against these schemas and
tests/web/test_api_schemathesis.py fuzzes a live server with it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from booking.api.schemas import (
    DEFAULT_LIMIT,
    MAX_ID,
    MAX_LIMIT,
    MAX_PLAN_INTERVAL,
    MAX_PLAN_SESSIONS,
    MAX_REASON,
)

PROBLEM = "application/problem+json"
JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE = {"type": "string", "format": "date", "example": "2026-12-01"}
INSTANT = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with the location's UTC offset.",
    "example": "2026-12-01T09:30:00+00:00",
}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the rate-limit window resets.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
COMMON = {
    "400": _problem("The query, cursor or body could not be read; `errors` names each field."),
    "429": _problem("Too many requests for this token or address.", RETRY_AFTER),
}
AUTHED = {
    "401": _problem(
        "No valid token of a staff user.",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    ),
    "403": _problem("The token's role may not do this (admins do not manage sessions)."),
}


def _ok(schema_name: str, description: str, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": _ref(schema_name)}}}}


def _page_params() -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "description": f"Items per page (default {DEFAULT_LIMIT}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "The `next_cursor` of the previous page.",
            "schema": {"type": "string"},
        },
    ]


def _list_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": _nullable({"type": "string"}),
        },
    }


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": _nullable({"type": "string"}),
            "code": {"type": "string"},
            "errors": {"type": "array", "items": _ref("FieldError")},
            "conflicts": {
                "type": "array",
                "description": "POST /plans: the starts that are not free (nothing was booked).",
                "items": INSTANT,
            },
        },
    },
    "FieldError": {
        "type": "object",
        "required": ["field", "detail"],
        "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
    },
    "Location": {
        "type": "object",
        "required": ["id", "name", "slug", "timezone"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "timezone": {"type": "string", "example": "Europe/London"},
            "address": {"type": "string"},
            "phone": _nullable({"type": "string"}),
        },
    },
    "Practitioner": {
        "type": "object",
        "required": ["id", "name", "location_id"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "location_id": {
                **_nullable(ID),
                "description": "Where they work most (null: no weekly hours yet).",
            },
            "location_ids": {"type": "array", "items": ID},
            "session_type_ids": {"type": "array", "items": ID},
        },
    },
    "SessionType": {
        "type": "object",
        "required": ["id", "name", "duration_minutes"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "duration_minutes": {"type": "integer", "minimum": 20, "maximum": 40},
            "buffer_before_minutes": {"type": "integer", "minimum": 0, "maximum": 30},
            "buffer_after_minutes": {"type": "integer", "minimum": 0, "maximum": 30},
            "price_pence": _nullable({"type": "integer", "minimum": 0}),
            "room_kind": _nullable({"type": "string", "enum": ["treatment", "community"]}),
        },
    },
    "Slot": {
        "type": "object",
        "description": "A free session (never the busy range around it), one per practitioner.",
        "required": ["start", "end", "practitioner_id", "room_id"],
        "properties": {
            "start": INSTANT,
            "end": INSTANT,
            "practitioner_id": ID,
            "room_id": _nullable(ID),
            "location_id": ID,
        },
    },
    "Appointment": {
        "type": "object",
        "required": ["id", "start", "end", "status", "practitioner_id", "room_id", "patient_id"],
        "properties": {
            "id": ID,
            "start": INSTANT,
            "end": INSTANT,
            "status": {
                "type": "string",
                "enum": ["booked", "checked_in", "completed", "cancelled", "no_show"],
            },
            "practitioner_id": ID,
            "room_id": _nullable(ID),
            "patient_id": ID,
            "location_id": ID,
            "session_type_id": ID,
            "source": {"type": "string", "enum": ["online", "staff", "api"]},
            "cancel_reason": _nullable({"type": "string"}),
            "cancelled_at": _nullable(INSTANT),
            "plan": _nullable(
                {
                    "type": "object",
                    "description": 'Its treatment plan and "session k of N" (null outside a '
                    "plan, and for a cancelled or missed session, which is not counted).",
                    "required": ["id", "sequence", "of"],
                    "properties": {
                        "id": ID,
                        "sequence": {"type": "integer", "minimum": 1},
                        "of": {"type": "integer", "minimum": 1},
                    },
                }
            ),
        },
    },
    "NewPatient": {
        "type": "object",
        "required": ["email", "given_name", "family_name", "date_of_birth"],
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "given_name": {"type": "string", "minLength": 1, "maxLength": 100},
            "family_name": {"type": "string", "minLength": 1, "maxLength": 100},
            "date_of_birth": DATE,
            "phone": _nullable({"type": "string", "maxLength": 30, "example": "+442079460321"}),
        },
    },
    "PatientRef": {
        "type": "object",
        "description": "An existing patient. Receptionists may book any patient; a practitioner "
        "only one she already treats (a booked, checked-in or completed session with her). "
        "Any other id is refused with 422 naming `patient.id`, as for an unknown id.",
        "required": ["id"],
        "properties": {"id": ID},
    },
    "NewAppointment": {
        "type": "object",
        "required": ["session_type_id", "practitioner_id", "start", "patient"],
        "properties": {
            "session_type_id": ID,
            "practitioner_id": ID,
            "location_id": {
                **ID,
                "description": "Optional: by default, the location whose hours hold the start.",
            },
            "start": INSTANT,
            "patient": {"oneOf": [_ref("PatientRef"), _ref("NewPatient")]},
        },
    },
    "Cancellation": {
        "type": "object",
        "properties": {"reason": _nullable({"type": "string", "maxLength": MAX_REASON})},
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "role"],
        "properties": {
            "id": ID,
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["practitioner", "receptionist", "admin"]},
        },
    },
    "PlanProposalRequest": {
        "type": "object",
        "required": [
            "session_type_id",
            "practitioner_id",
            "first_date",
            "time",
            "count",
            "interval_weeks",
        ],
        "properties": {
            "session_type_id": ID,
            "practitioner_id": ID,
            "location_id": {
                **ID,
                "description": "Optional: by default the practitioner's first working location.",
            },
            "first_date": DATE,
            "time": {
                "type": "string",
                "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                "description": "Wall-clock time in the location's zone; kept across clock changes.",
                "example": "10:00",
            },
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_PLAN_SESSIONS},
            "interval_weeks": {"type": "integer", "minimum": 1, "maximum": MAX_PLAN_INTERVAL},
            "allow_other_practitioner": {"type": "boolean"},
        },
    },
    "PlanAlternative": {
        "type": "object",
        "required": ["start", "end", "practitioner_id"],
        "properties": {"start": INSTANT, "end": INSTANT, "practitioner_id": ID},
    },
    "PlanProposal": {
        "type": "object",
        "required": ["location_id", "sessions"],
        "properties": {
            "location_id": ID,
            "sessions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sequence", "start", "end", "free", "alternatives"],
                    "properties": {
                        "sequence": {"type": "integer", "minimum": 1},
                        "start": INSTANT,
                        "end": INSTANT,
                        "free": {"type": "boolean"},
                        "moved_for_clock_change": {
                            "type": "boolean",
                            "description": "The wall time fell in a DST gap and moved after it.",
                        },
                        "alternatives": {
                            "type": "array",
                            "maxItems": 3,
                            "items": _ref("PlanAlternative"),
                        },
                    },
                },
            },
        },
    },
    "NewPlan": {
        "type": "object",
        "required": ["session_type_id", "practitioner_id", "goal", "starts", "patient"],
        "properties": {
            "session_type_id": ID,
            "practitioner_id": ID,
            "location_id": ID,
            "goal": {"type": "string", "minLength": 1, "maxLength": 500},
            "starts": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_PLAN_SESSIONS,
                "items": INSTANT,
            },
            "patient": {"oneOf": [_ref("PatientRef"), _ref("NewPatient")]},
        },
    },
    "Plan": {
        "type": "object",
        "required": ["id", "status", "total", "appointments"],
        "properties": {
            "id": ID,
            "patient_id": ID,
            "practitioner_id": ID,
            "location_id": ID,
            "goal": {"type": "string"},
            "condition_tag": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["draft", "active", "paused", "completed", "cancelled"],
            },
            "total": {"type": "integer", "minimum": 0},
            "done": {"type": "integer", "minimum": 0},
            "booked": {"type": "integer", "minimum": 0},
            "remaining": {"type": "integer", "minimum": 0},
            "appointments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "start", "end", "sequence", "of"],
                    "properties": {
                        "id": ID,
                        "start": INSTANT,
                        "end": INSTANT,
                        "status": {"type": "string"},
                        "sequence": _nullable({"type": "integer", "minimum": 1}),
                        "of": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
    "LocationList": _list_of("Location"),
    "PractitionerList": _list_of("Practitioner"),
    "SessionTypeList": _list_of("SessionType"),
    "SlotList": _list_of("Slot"),
    "AppointmentList": _list_of("Appointment"),
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Optional, unique per token: a retry within 24 hours replays the first answer.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
APPOINTMENT_ID = {"name": "appointment_id", "in": "path", "required": True, "schema": ID}
CONFLICT = _problem("The time is no longer free (taken, outside hours or no room).")


def _paths() -> dict[str, Any]:
    public: list[dict[str, Any]] = []
    return {
        "/locations": {
            "get": {
                "operationId": "listLocations",
                "summary": "Active locations",
                "security": public,
                "parameters": _page_params(),
                "responses": {**_ok("LocationList", "A page of locations."), **COMMON},
            }
        },
        "/practitioners": {
            "get": {
                "operationId": "listPractitioners",
                "summary": "Active practitioners",
                "security": public,
                "parameters": _page_params(),
                "responses": {**_ok("PractitionerList", "A page of practitioners."), **COMMON},
            }
        },
        "/session-types": {
            "get": {
                "operationId": "listSessionTypes",
                "summary": "Active session types",
                "security": public,
                "parameters": _page_params(),
                "responses": {**_ok("SessionTypeList", "A page of session types."), **COMMON},
            }
        },
        "/availability": {
            "get": {
                "operationId": "listAvailability",
                "summary": "Free times: one item per (start, practitioner)",
                "description": "`from` and `to` are local dates at the location, both "
                "included, at most 31 days apart. Answers carry an ETag; send it back in "
                "If-None-Match for a 304 while nothing changed.",
                "security": public,
                "parameters": [
                    {"name": "session_type_id", "in": "query", "required": True, "schema": ID},
                    {"name": "from", "in": "query", "required": True, "schema": DATE},
                    {"name": "to", "in": "query", "required": True, "schema": DATE},
                    {"name": "practitioner_id", "in": "query", "schema": ID},
                    {"name": "location_id", "in": "query", "schema": ID},
                    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                    *_page_params(),
                ],
                "responses": {
                    "200": {
                        "description": "A page of free times, sorted by start.",
                        "headers": {
                            "ETag": {"required": True, "schema": {"type": "string"}},
                        },
                        "content": {JSON: {"schema": _ref("SlotList")}},
                    },
                    "304": {"description": "Unchanged since the ETag in If-None-Match."},
                    "404": _problem("Unknown session type, practitioner or location."),
                    **COMMON,
                },
            }
        },
        "/appointments": {
            "get": {
                "operationId": "listAppointments",
                "summary": "Sessions by start (practitioners see their own)",
                "description": "`from` and `to` are dates in the clinic's zone (default: "
                "today and 30 days on), at most 92 days apart.",
                "parameters": [
                    {"name": "from", "in": "query", "schema": DATE},
                    {"name": "to", "in": "query", "schema": DATE},
                    {"name": "practitioner_id", "in": "query", "schema": ID},
                    *_page_params(),
                ],
                "responses": {
                    **_ok("AppointmentList", "A page of sessions."),
                    **COMMON,
                    **AUTHED,
                },
            },
            "post": {
                "operationId": "createAppointment",
                "summary": "Book a free time for a patient",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("NewAppointment")}},
                },
                "responses": {
                    "201": {
                        "description": "Booked.",
                        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
                        "content": {JSON: {"schema": _ref("Appointment")}},
                    },
                    "404": _problem("Unknown session type, practitioner or location."),
                    "409": CONFLICT,
                    "422": _problem(
                        "A field was refused; `errors` names each one (`patient.id` for an "
                        "unknown patient or one this practitioner does not treat)."
                    ),
                    **COMMON,
                    **AUTHED,
                },
            },
        },
        "/appointments/{appointment_id}": {
            "get": {
                "operationId": "getAppointment",
                "summary": "One session",
                "parameters": [APPOINTMENT_ID],
                "responses": {
                    **_ok("Appointment", "The session."),
                    "404": _problem("No such session, or not yours."),
                    **COMMON,
                    **AUTHED,
                },
            }
        },
        "/appointments/{appointment_id}/cancel": {
            "post": {
                "operationId": "cancelAppointment",
                "summary": "Cancel a session (cancelling again changes nothing)",
                "parameters": [APPOINTMENT_ID, IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": False,
                    "content": {JSON: {"schema": _ref("Cancellation")}},
                },
                "responses": {
                    **_ok("Appointment", "Cancelled."),
                    "404": _problem("No such session, or not yours."),
                    "422": _problem("The session cannot be cancelled (e.g. completed)."),
                    **COMMON,
                    **AUTHED,
                },
            }
        },
        "/plans/proposal": {
            "post": {
                "operationId": "proposePlan",
                "summary": "Propose a plan's sessions, with up to 3 alternatives where taken",
                "description": "Every occurrence at the same local wall time, `interval_weeks` "
                "apart. Alternatives: same day nearest the time, then 1 and 2 days either side "
                "(earlier first on ties), then another practitioner if allowed.",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("PlanProposalRequest")}},
                },
                "responses": {
                    **_ok("PlanProposal", "The proposed sessions."),
                    "404": _problem("Unknown session type, practitioner or location."),
                    "422": _problem("A field was refused; `errors` names each one."),
                    **COMMON,
                    **AUTHED,
                },
            }
        },
        "/plans": {
            "post": {
                "operationId": "createPlan",
                "summary": "Book a plan's whole series: every start or none",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("NewPlan")}},
                },
                "responses": {
                    "201": {
                        "description": "The plan, every session booked.",
                        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
                        "content": {JSON: {"schema": _ref("Plan")}},
                    },
                    "404": _problem("Unknown session type, practitioner or location."),
                    "409": _problem(
                        "Some starts are not free; `conflicts` lists them and nothing was booked."
                    ),
                    "422": _problem("A field was refused; `errors` names each one."),
                    **COMMON,
                    **AUTHED,
                },
            }
        },
        "/plans/{plan_id}": {
            "get": {
                "operationId": "getPlan",
                "summary": "A plan with its sessions numbered `sequence` of `of`",
                "parameters": [{"name": "plan_id", "in": "path", "required": True, "schema": ID}],
                "responses": {
                    **_ok("Plan", "The plan."),
                    "404": _problem("No such plan, or not yours."),
                    **COMMON,
                    **AUTHED,
                },
            }
        },
        "/me": {
            "get": {
                "operationId": "getMe",
                "summary": "The token's user",
                "responses": {**_ok("Me", "The user."), **COMMON, **AUTHED},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": public,
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    "429": COMMON["429"],
                },
            }
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Meridian API",
            "version": "1.0.0",
            "description": "Availability and appointments for integrations and the clinic's "
            "website. Errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Created with `flask --app wsgi api-token create`.",
                }
            },
        },
    }

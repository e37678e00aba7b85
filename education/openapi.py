"""The institution API as an OpenAPI 3 document (served at /api/v1/openapi.json)."""

from __future__ import annotations

_SIGNED = [{"institutionKey": [], "timestamp": [], "signature": []}]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}},
}


def _error(description: str) -> dict:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_RECORD = {
    "type": "object",
    "description": (
        "A batch is refused as a whole (400) only for its shape: a missing field or a wrong JSON type. "
        "A record whose values break the rules below is kept and reported `rejected` with reason "
        "`invalid_value` in the batch's results."
    ),
    "required": ["record_id", "id_type", "id_number", "name", "year", "category", "credits", "course",
                 "completed_at"],
    "properties": {
        "record_id": {"type": "string", "minLength": 1, "maxLength": 64,
                      "description": "The institution's own id of the record; (institution, record_id) is unique."},
        "id_type": {"type": "string", "enum": ["resident_id_card", "hk_macao_tw_residence_permit",
                                                "hk_macao_mainland_travel_permit", "tw_mainland_travel_permit",
                                                "passport", "foreigner_permanent_residence_card"]},
        "id_number": {"type": "string"},
        "name": {"type": "string", "maxLength": 50},
        "year": {"type": "integer", "example": 2026},
        "category": {"type": "string", "enum": ["公需科目", "专业科目"]},
        # OpenAPI 3.0: exclusiveMinimum is a boolean qualifying minimum.
        "credits": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 999.9, "multipleOf": 0.1},
        "course": {"type": "string", "maxLength": 200},
        "completed_at": {"type": "string", "format": "date", "description": "Within `year`."},
    },
}

_RESULT = {
    "type": "object",
    "required": ["index", "record_id", "result"],
    "properties": {
        "index": {"type": "integer"},
        "record_id": {"type": "string"},
        "result": {"type": "string", "enum": ["accepted", "duplicate", "rejected", "pending"]},
        "reason": {"type": "string", "enum": ["invalid_value", "conflict", "institution_not_filed",
                                              "person_unknown", "name_mismatch", "not_enrolled"]},
        "message": {"type": "string"},
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "贵州省财政会计网 · 继续教育机构接口",
            "version": "1",
            "description": (
                "Server-to-server API for continuing-education institutions filed (备案) with the finance "
                "department. Every request is signed: X-Signature = lower-case hex HMAC-SHA256 of "
                "\"{X-Timestamp}.{raw body}\" with the institution's secret (a GET signs an empty body); "
                "X-Timestamp must be within 300 s of the server clock."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "institutionKey": {"type": "apiKey", "in": "header", "name": "X-Institution-Key"},
                "timestamp": {"type": "apiKey", "in": "header", "name": "X-Timestamp"},
                "signature": {"type": "apiKey", "in": "header", "name": "X-Signature"},
            },
            "schemas": {"Error": _ERROR, "CreditRecord": _RECORD, "RecordResult": _RESULT},
        },
        "paths": {
            "/learner-tokens/exchange": {"post": {
                "summary": "Exchange a 点击查看 launch token for the learner (once)",
                "operationId": "learnerTokenExchange",
                "security": _SIGNED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}}}},
                "responses": {
                    "200": {"description": "The learner", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "name": {"type": "string"}, "id_type": {"type": "string"},
                            "id_number": {"type": "string"}, "year": {"type": "integer"},
                            "enrolment_id": {"type": "integer"}}}}}},
                    "400": _error("malformed_json / token_required"),
                    "401": _error("missing_headers / bad_timestamp / timestamp_out_of_range / unknown_key / "
                                  "bad_signature"),
                    "404": _error("token_invalid"),
                    "409": _error("token_used"),
                    "410": _error("token_expired"),
                },
            }},
            "/credit-batches": {"post": {
                "summary": "Post a batch of credit records (at most 1,000 records and 2 MB)",
                "operationId": "creditBatchCreate",
                "security": _SIGNED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["records"], "properties": {"records": {
                        "type": "array", "minItems": 1, "maxItems": 1000,
                        "items": {"$ref": "#/components/schemas/CreditRecord"}}}}}}},
                "responses": {
                    "202": {"description": "Stored; processed in the background", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "batch_id": {"type": "integer"}, "status": {"type": "string"},
                            "record_count": {"type": "integer"}, "status_url": {"type": "string"}}}}}},
                    "400": _error("malformed_json / records_required / wrong_type / missing_field / "
                                  "empty_batch / too_many_records / body_too_large"),
                    "401": _error("signature errors, as for the token exchange"),
                },
            }},
            "/credit-batches/{batch_id}": {"get": {
                "summary": "A batch's status and each record's outcome (only the institution that posted it)",
                "operationId": "creditBatchDetail",
                "security": _SIGNED,
                "parameters": [{"name": "batch_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "responses": {
                    "200": {"description": "Status and per-record results", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "batch_id": {"type": "integer"},
                            "status": {"type": "string", "enum": ["pending", "processing", "done"],
                                       "description": "待处理 / 处理中 / 已完成"},
                            "status_label": {"type": "string"},
                            "received_at": {"type": "string", "format": "date-time"},
                            "finished_at": {"type": "string", "format": "date-time", "nullable": True},
                            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                            "records": {"type": "array", "items": {"$ref": "#/components/schemas/RecordResult"}},
                        }}}}},
                    "401": _error("signature errors"),
                    "404": _error("batch_not_found (unknown, or another institution's)"),
                },
            }},
        },
    }

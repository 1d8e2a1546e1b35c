/// The API's OpenAPI 3.1 document, served at /api/v1/openapi.json.
enum OpenAPI {
    static let document = """
        {
          "openapi": "3.1.0",
          "info": {
            "title": "hnsensor console API",
            "version": "1",
            "description": "Incidents of the CSIRT store for scripts. Sign in with POST /api/v1/login; the session cookie it sets and the csrf_token it returns (in an X-CSRF-Token header) go with every later call. viewer reads; analyst also changes and exports; admin also manages accounts (in the console)."
          },
          "servers": [{"url": "/api/v1"}],
          "components": {
            "securitySchemes": {
              "session": {"type": "apiKey", "in": "cookie", "name": "hn_session"},
              "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}
            },
            "parameters": {
              "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}
            },
            "schemas": {
              "Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"},
                "allowed": {"type": "array", "items": {"type": "string"}, "description": "On 409: the statuses the incident may move to."}}},
              "Incident": {"type": "object", "required": ["id", "title", "priority", "status", "classification", "first_seen", "last_seen", "alert_count"],
                "properties": {
                  "id": {"type": "integer"}, "title": {"type": "string"},
                  "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]}, "priority_reason": {"type": "string"},
                  "status": {"type": "string", "enum": ["new", "qualification", "containment", "investigation", "remediation", "hardening", "closed", "false-positive", "duplicate"]},
                  "classification": {"type": "object", "properties": {"taxonomy": {"type": "string"}, "type": {"type": "string"}}},
                  "first_seen": {"type": "string"}, "last_seen": {"type": "string"},
                  "sources": {"type": "array", "items": {"type": "string"}}, "targets": {"type": "array", "items": {"type": "string"}},
                  "segments": {"type": "array", "items": {"type": "string"}}, "constituents": {"type": "array", "items": {"type": "string"}},
                  "sensors": {"type": "array", "items": {"type": "string"}, "description": "the sensors whose alerts the incident holds"},
                  "alert_count": {"type": "integer"}, "event_count": {"type": "integer"}, "severity": {"type": "integer"},
                  "patient_care": {"type": "boolean"}, "reportable": {"type": "boolean"},
                  "report_deadline": {"type": "string"}, "reported_at": {"type": "string"}, "assignee": {"type": "string"},
                  "related": {"type": "array", "items": {"type": "integer"}}, "rule": {"type": "string"}}},
              "IncidentDetail": {"type": "object", "required": ["incident", "events", "alerts", "audit"], "properties": {
                "incident": {"$ref": "#/components/schemas/Incident"},
                "events": {"type": "array", "items": {"type": "object"}},
                "alerts": {"type": "array", "items": {"type": "object"}},
                "audit": {"type": "array", "items": {"type": "object"}}}},
              "Patch": {"type": "object", "minProperties": 1, "additionalProperties": false, "properties": {
                "status": {"type": "string"}, "assignee": {"type": "string", "minLength": 1, "maxLength": 64},
                "note": {"type": "string", "maxLength": 4000}, "reported": {"type": "boolean", "const": true}}}
            },
            "responses": {
              "Error": {"description": "Refused: bad input (400), not signed in (401), role or CSRF token (403), no such incident (404).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
          },
          "paths": {
            "/login": {"post": {"summary": "Sign in", "operationId": "login",
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["username", "password"],
                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
              "responses": {
                "200": {"description": "Signed in; the session cookie is set.", "content": {"application/json": {"schema": {"type": "object",
                  "properties": {"csrf_token": {"type": "string"}, "username": {"type": "string"}, "role": {"type": "string"}}}}}},
                "401": {"$ref": "#/components/responses/Error"},
                "429": {"description": "Too many failed logins (Retry-After).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
            "/logout": {"post": {"summary": "End the session", "operationId": "logout", "security": [{"session": [], "csrf": []}],
              "responses": {"204": {"description": "Signed out."}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
            "/incidents": {"get": {"summary": "Incidents, most urgent first, then most recent (as incidents list --format json)", "operationId": "listIncidents",
              "security": [{"session": []}],
              "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "all (default), open, or statuses separated by commas"},
                {"name": "priority", "in": "query", "schema": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]}, "description": "this priority or more urgent"},
                {"name": "class", "in": "query", "schema": {"type": "string"}, "description": "RSIT taxonomy or taxonomy/type"},
                {"name": "constituent", "in": "query", "schema": {"type": "string"}},
                {"name": "segment", "in": "query", "schema": {"type": "string"}},
                {"name": "assignee", "in": "query", "schema": {"type": "string"}, "description": "a name, or - for unassigned"},
                {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "words of the title or an address"},
                {"name": "since", "in": "query", "schema": {"type": "string"}, "description": "2026-11-02 or 2026-11-02T08:00:00 (last seen)"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
              "responses": {"200": {"description": "The incidents.", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}},
            "/incidents/{id}": {
              "get": {"summary": "One incident with its events, alerts and audit trail (as incidents show --format json)", "operationId": "getIncident",
                "security": [{"session": []}], "parameters": [{"$ref": "#/components/parameters/id"}],
                "responses": {"200": {"description": "The incident.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IncidentDetail"}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
              "patch": {"summary": "Move the status, assign, add a note, mark reported (analyst, admin)", "operationId": "updateIncident",
                "security": [{"session": [], "csrf": []}], "parameters": [{"$ref": "#/components/parameters/id"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patch"}}}},
                "responses": {"200": {"description": "The incident after the change.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"description": "A move the lifecycle does not allow, with the allowed statuses.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
            "/incidents/{id}/export": {"get": {"summary": "The incident as a MISP event, a STIX 2.1 bundle or a notification report (analyst, admin)",
              "operationId": "exportIncident", "security": [{"session": []}],
              "parameters": [{"$ref": "#/components/parameters/id"},
                {"name": "format", "in": "query", "required": true, "schema": {"type": "string", "enum": ["misp", "stix", "report"]}}],
              "responses": {"200": {"description": "The file, as incidents export writes it.", "content": {"application/json": {"schema": {"type": "object"}}, "text/markdown": {"schema": {"type": "string"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}}}},
            "/sensors": {"get": {"summary": "Sensors that write the store", "operationId": "listSensors", "security": [{"session": []}],
              "responses": {"200": {"description": "The sensors.", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
                "401": {"$ref": "#/components/responses/Error"}}}}
          }
        }
        """
}

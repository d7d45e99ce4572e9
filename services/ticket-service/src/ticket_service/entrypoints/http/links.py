"""OpenAPI links: what a client can do next with the event or ticket an answer names.

Generated clients show them; the contract test's stateful phase follows them, so it reaches real
events and tickets instead of random ids.
"""

from typing import Any

EVENT_ID = "$response.body#/data/id"
TICKET_ID = "$response.body#/data/id"


def _link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


EVENT_LINKS: dict[str, Any] = {
    "GetEvent": _link("get_event_events__event_id__get", event_id=EVENT_ID),
    "EventTickets": _link("event_tickets_events__event_id__tickets_get", event_id=EVENT_ID),
    "Purchase": {
        "operationId": "purchase_tickets_purchase_post",
        "requestBody": {
            "event_id": EVENT_ID,
            "customer_name": "Siti Rahma",
            "customer_email": "siti@example.id",
        },
    },
    "IssueComplimentary": {
        "operationId": "issue_complimentary_ticket_tickets_post",
        "requestBody": {
            "event_id": EVENT_ID,
            "user_id": "guest-1",
            "holder_name": "Siti Rahma",
            "holder_email": "siti@example.id",
        },
    },
}
TICKET_LINKS: dict[str, Any] = {
    "GetTicket": _link("get_ticket_tickets__ticket_id__get", ticket_id=TICKET_ID),
    "TicketQr": _link("ticket_qr_tickets__ticket_id__qr_get", ticket_id=TICKET_ID),
    "CorrectHolder": _link("correct_holder_tickets__ticket_id__put", ticket_id=TICKET_ID),
    "Cancel": _link("cancel_tickets__ticket_id__cancel_post", ticket_id=TICKET_ID),
    "ByCode": _link(
        "ticket_by_code_tickets_by_code__code__get",
        code="$response.body#/data/attendance_code",
    ),
}


def linked(links: dict[str, Any], *statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"links": links} for status in statuses}

"""Ticket transfer: the holder offers, the receiver accepts, the host sets the rules.

Fixed paths come first; `/tickets/{ticket_id:uuid}/...` only matches a UUID.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from servicekit.auth import CurrentUser
from servicekit.contract import declare, merge
from servicekit.errors import DomainErrorMap
from servicekit.fields import SINGLE_LINE, AwareDatetime, Email, Trim

from ticket_service import bootstrap
from ticket_service.domain import transfers as rules
from ticket_service.domain.transfers import Transfer, TransferPolicy
from ticket_service.entrypoints.http.door import HostOrAdmin, actor_of, door_settings
from ticket_service.entrypoints.http.rendering import ticket_public
from ticket_service.service_layer import transfers
from ticket_service.service_layer.transfers import EventTransferRules, TransferRepository

router = APIRouter(tags=["transfers"])

Transfers = Annotated[TransferRepository, Depends(bootstrap.transfer_repository)]
AcceptToken = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

TRANSFER_ERRORS: DomainErrorMap = {
    rules.TicketNotTransferable: (409, "ticket_not_active"),
    rules.TransfersNotAllowed: (409, "transfers_not_allowed"),
    rules.TransferDeadlinePassed: (409, "transfer_deadline_passed"),
    rules.TransferLimitReached: (409, "transfer_limit_reached"),
    rules.TransferAlreadyOffered: (409, "transfer_already_offered"),
    rules.TransferNotFound: (404, "transfer_not_found"),
    rules.TransferNotOpen: (409, "transfer_not_open"),
    rules.TransferToSelf: (409, "transfer_to_self"),
}


class TransferOffer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE), Trim]
    email: Email


def _not_a_boolean(value: object) -> object:
    """JSON true/false is not a count (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("a count is a number, not a boolean")
    return value


Count = Annotated[int, BeforeValidator(_not_a_boolean)]


class TransferPolicyPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed: bool = Field(strict=True)
    deadline: AwareDatetime | None = Field(
        default=None, description="Last moment to transfer; null: until the event starts."
    )
    max_transfers_per_ticket: Count = Field(ge=0, le=10)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def transfer_public(transfer: Transfer, now: datetime) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "ticket_id": transfer.ticket_id,
        "event_id": transfer.event_id,
        "status": str(transfer.standing(now)),
        "from": {
            "user_id": transfer.from_user_id,
            "name": transfer.from_name,
            "email": transfer.from_email,
        },
        "to": {
            "user_id": transfer.to_user_id,
            "name": transfer.to_name,
            "email": transfer.to_email,
        },
        "created_at": _iso(transfer.created_at),
        "expires_at": _iso(transfer.expires_at),
        "accepted_at": _iso(transfer.accepted_at),
        "withdrawn_at": _iso(transfer.withdrawn_at),
    }


def rules_public(found: EventTransferRules) -> dict[str, Any]:
    return {
        "event_id": found.event_id,
        "allowed": found.policy.allowed,
        "deadline": _iso(found.policy.deadline),
        "max_transfers_per_ticket": found.policy.max_transfers_per_ticket,
    }


@router.post("/transfers/{accept_token}/accept", responses=declare(404, 409, 503))
async def accept_transfer(
    accept_token: AcceptToken, principal: CurrentUser, repo: Transfers, request: Request
) -> dict[str, Any]:
    """The signed-in receiver takes the ticket: it gets their user id, a new code and QR."""
    moved = await transfers.accept_transfer(
        repo, accept_token=accept_token, receiver=principal.user_id, now=datetime.now(UTC)
    )
    return {"data": ticket_public(moved, qr_url_template=door_settings(request).qr_url_template)}


@router.get("/events/{event_id:uuid}/transfer-policy")
async def get_transfer_policy(
    event_id: UUID, _caller: CurrentUser, repo: Transfers
) -> dict[str, Any]:
    return {"data": rules_public(await transfers.transfer_rules(repo, event_id=str(event_id)))}


@router.put("/events/{event_id:uuid}/transfer-policy")
async def put_transfer_policy(
    event_id: UUID, body: TransferPolicyPut, principal: HostOrAdmin, repo: Transfers
) -> dict[str, Any]:
    found = await transfers.set_transfer_policy(
        repo,
        event_id=str(event_id),
        actor=actor_of(principal),
        policy=TransferPolicy(**body.model_dump()),
    )
    return {"data": rules_public(found)}


@router.post("/tickets/{ticket_id:uuid}/transfer", status_code=201, responses=merge(declare(409)))
async def offer_transfer(
    ticket_id: UUID, body: TransferOffer, principal: CurrentUser, repo: Transfers, request: Request
) -> dict[str, Any]:
    """The holder offers the ticket to a named person; the token goes to them (once, here)."""
    now = datetime.now(UTC)
    hours = door_settings(request).transfer_offer_hours
    offered = await transfers.offer_transfer(
        repo,
        transfers.OfferTransfer(str(ticket_id), principal.user_id, body.name, body.email),
        now=now,
        valid_for=timedelta(hours=hours),
    )
    return {
        "data": {
            **transfer_public(offered.transfer, now),
            "accept_token": offered.accept_token,
        }
    }


@router.delete("/tickets/{ticket_id:uuid}/transfer")
async def withdraw_transfer(
    ticket_id: UUID, principal: CurrentUser, repo: Transfers
) -> dict[str, Any]:
    withdrawn = await transfers.withdraw_transfer(
        repo, ticket_id=str(ticket_id), holder=principal.user_id
    )
    return {"data": transfer_public(withdrawn, datetime.now(UTC))}


@router.get("/tickets/{ticket_id:uuid}/transfers")
async def ticket_transfers(
    ticket_id: UUID, principal: CurrentUser, repo: Transfers
) -> dict[str, Any]:
    """The ticket's transfer trail, oldest first, for its holder, the host and admins."""
    trail = await transfers.transfer_trail(
        repo, ticket_id=str(ticket_id), actor=actor_of(principal)
    )
    now = datetime.now(UTC)
    return {"data": [transfer_public(t, now) for t in trail], "next_cursor": None}

"""The host's sale setup: ticket types, quotas and promo codes of an event."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse
from servicekit.contract import declare

from ticket_service import bootstrap
from ticket_service.domain.orders import PromoCode, PromoCodeTerms, Quota, TicketTypeTerms
from ticket_service.entrypoints.http.door import HostOrAdmin, actor_of
from ticket_service.entrypoints.http.rendering import iso
from ticket_service.entrypoints.http.schemas import PromoCodePut, QuotaPut, TicketTypePut
from ticket_service.service_layer import sale_setup
from ticket_service.service_layer.sale_setup import Put, SaleSetupRepository

router = APIRouter(tags=["sale setup"])

Setup = Annotated[SaleSetupRepository, Depends(bootstrap.sale_setup)]
SetupPathId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
PUT_RESPONSES = declare(403, 404, 409, 422)


def _answer(put: Put[Any], body: dict[str, Any]) -> Response:
    return JSONResponse({"data": body}, status_code=201 if put.created else 200)


@router.put("/events/{event_id:uuid}/ticket-types/{type_id}", responses=PUT_RESPONSES)
async def put_ticket_type(
    event_id: uuid.UUID,
    type_id: SetupPathId,
    body: TicketTypePut,
    setup: Setup,
    principal: HostOrAdmin,
) -> Response:
    put = await sale_setup.put_ticket_type(
        setup,
        event_id=str(event_id),
        type_id=type_id,
        terms=TicketTypeTerms(**body.model_dump()),
        actor=actor_of(principal),
    )
    kind = put.value
    return _answer(
        put,
        {
            "id": kind.id,
            "event_id": kind.event_id,
            "name": kind.name,
            "description": kind.description,
            "price": kind.price,
            "capacity": kind.capacity,
            "sold": kind.sold,
            "held": kind.held,
            "available": kind.available,
            "sales_start": iso(kind.sales_start),
            "sales_end": iso(kind.sales_end),
            "max_per_order": kind.max_per_order,
            "position": kind.position,
            "hidden": kind.hidden,
        },
    )


def _quota_public(quota: Quota) -> dict[str, Any]:
    return {
        "id": quota.id,
        "event_id": quota.event_id,
        "name": quota.name,
        "size": quota.size,
        "sold": quota.sold,
        "held": quota.held,
        "available": max(quota.size - quota.sold - quota.held, 0),
        "ticket_type_ids": list(quota.ticket_type_ids),
    }


@router.put("/events/{event_id:uuid}/quotas/{quota_id}", responses=PUT_RESPONSES)
async def put_quota(
    event_id: uuid.UUID,
    quota_id: SetupPathId,
    body: QuotaPut,
    setup: Setup,
    principal: HostOrAdmin,
) -> Response:
    put = await sale_setup.put_quota(
        setup,
        event_id=str(event_id),
        quota_id=quota_id,
        name=body.name,
        size=body.size,
        type_ids=tuple(sorted(set(body.ticket_type_ids))),
        actor=actor_of(principal),
    )
    return _answer(put, _quota_public(put.value))


def _promo_public(promo: PromoCode) -> dict[str, Any]:
    return {
        "code": promo.code,
        "event_id": promo.event_id,
        "percent_off": promo.percent_off,
        "amount_off": promo.amount_off,
        "max_uses": promo.max_uses,
        "max_uses_per_user": promo.max_uses_per_user,
        "valid_from": iso(promo.valid_from),
        "valid_until": iso(promo.valid_until),
        "ticket_type_ids": list(promo.ticket_type_ids),
        "uses": promo.uses,
    }


@router.put("/events/{event_id:uuid}/promo-codes/{code}", responses=PUT_RESPONSES)
async def put_promo_code(
    event_id: uuid.UUID,
    code: CodePath,
    body: PromoCodePut,
    setup: Setup,
    principal: HostOrAdmin,
) -> Response:
    put = await sale_setup.put_promo_code(
        setup,
        event_id=str(event_id),
        code=code,
        terms=PromoCodeTerms(
            **{**body.model_dump(), "ticket_type_ids": tuple(sorted(set(body.ticket_type_ids)))}
        ),
        actor=actor_of(principal),
    )
    return _answer(put, _promo_public(put.value))

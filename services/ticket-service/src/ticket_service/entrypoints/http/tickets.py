"""The buyer's ticket routes: purchase, my tickets, my transactions, one ticket.

Fixed paths come first; `/tickets/{ticket_id:uuid}` only matches a UUID.
"""

from fastapi import APIRouter

router = APIRouter(tags=["tickets"])

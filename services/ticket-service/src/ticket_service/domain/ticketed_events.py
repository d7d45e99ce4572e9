"""A ticketed event's sale rules: the window, the price, the seats."""

from dataclasses import dataclass
from datetime import datetime

from ticket_service.domain.errors import CapacityBelowTaken, SalesClosed, SalesNotOpen, SoldOut


@dataclass(frozen=True)
class SaleWindow:
    starts_at: datetime
    sales_start: datetime | None
    sales_end: datetime | None

    @property
    def closes_at(self) -> datetime:
        """Sales end at `sales_end`, or when the event starts if the host set no end."""
        return self.sales_end or self.starts_at

    def check_open(self, now: datetime) -> None:
        if self.sales_start is not None and now < self.sales_start:
            raise SalesNotOpen(
                "Ticket sales have not started yet.",
                details={"sales_start": self.sales_start.isoformat()},
            )
        if now >= self.closes_at:
            raise SalesClosed(
                "Ticket sales for this event have ended.",
                details={"sales_end": self.closes_at.isoformat()},
            )

    def is_open(self, now: datetime) -> bool:
        try:
            self.check_open(now)
        except (SalesNotOpen, SalesClosed):
            return False
        return True


@dataclass(frozen=True)
class Seats:
    capacity: int
    sold: int
    held: int

    @property
    def available(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)

    def check_free(self) -> None:
        if self.available <= 0:
            raise SoldOut("This event is sold out.", details={"capacity": self.capacity})

    def check_new_capacity(self, capacity: int) -> None:
        if capacity < self.sold + self.held:
            raise CapacityBelowTaken(
                f"Capacity cannot go below the {self.sold + self.held} seats already sold or held.",
                details={"sold": self.sold, "held": self.held},
            )

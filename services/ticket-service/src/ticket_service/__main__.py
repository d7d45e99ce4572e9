"""`python -m ticket_service`: serve the app on HTTP_HOST:HTTP_PORT (8001 by default)."""

from servicekit.serve import serve

from ticket_service.bootstrap import create_app
from ticket_service.settings import TicketSettings


def main() -> None:
    settings = TicketSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

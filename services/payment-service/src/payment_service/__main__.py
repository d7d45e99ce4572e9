"""`python -m payment_service`: serve the app on HTTP_HOST:HTTP_PORT (8002 by default)."""

from servicekit.serve import serve

from payment_service.bootstrap import create_app
from payment_service.settings import PaymentSettings


def main() -> None:
    settings = PaymentSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

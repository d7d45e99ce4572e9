"""`python -m notification_gateway`: serve the app on HTTP_HOST:HTTP_PORT (8003)."""

from servicekit.serve import serve

from notification_gateway.bootstrap import create_app
from notification_gateway.settings import NotificationSettings


def main() -> None:
    settings = NotificationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

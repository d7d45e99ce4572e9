"""JSON Schemas of the event payloads, committed under libs/contracts/schemas/.

`python -m ticketing_contracts.schemas` rewrites them; a test fails when they drift from the models.
"""

import json
import sys
from pathlib import Path
from typing import Any

from ticketing_contracts.envelope import EventEnvelope
from ticketing_contracts.events import PAYLOAD_MODELS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for the envelope and every payload version."""
    schemas = {"envelope.json": EventEnvelope.model_json_schema()}
    for (event_type, version), model in PAYLOAD_MODELS.items():
        schemas[f"{event_type}.v{version}.json"] = model.model_json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in current_schemas().items():
        (directory / name).write_text(render(schema))


if __name__ == "__main__":
    write_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR)

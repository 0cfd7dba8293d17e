"""Local S3 endpoints for demos, notebooks and tests (moto on 127.0.0.1)."""

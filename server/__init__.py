"""GridOne's FastAPI server. Build it with ``server.app.create_app(settings)``."""

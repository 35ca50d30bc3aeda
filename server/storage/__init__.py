"""Where photo and document bytes live: a local folder (the embedded default) or an
S3-compatible object store (production, chosen by settings)."""

"""The `retrodig` command: a thin click layer over pipeline.api."""

"""``nirdag serve``: a read-only REST API and web pages over a workspace, and predictions from verified bundles.

The web framework (FastAPI, uvicorn, prometheus-client: the ``serve`` extra) loads with ``nirdag.serve.app``, never
with this package: ``nirdag.serve.config`` checks the flags without it.
"""

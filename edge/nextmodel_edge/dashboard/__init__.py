"""The spend dashboard: static pages under /dashboard/, drawn in the browser from the public APIs."""

from nextmodel_edge.dashboard.routes import router

__all__ = ["router"]

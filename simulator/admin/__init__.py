from simulator.admin.routes import create_admin_app

__all__ = ["create_admin_app"]

"""The LAPOR! 1708 gateway. `create_app` lives in gateway.app; this package stays import-light
so `config` and the workers can import its modules without pulling in Flask."""


def create_app(*args, **kwargs):
    """The app factory (see gateway.app.create_app)."""
    from gateway.app import create_app as factory

    return factory(*args, **kwargs)

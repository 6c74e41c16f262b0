"""Built-in recognizers, one a module; importing this package registers them all."""

from escalink.phi.recognizers import (  # noqa: F401
    address,
    clinical,
    dates,
    email,
    ids,
    ip,
    names,
    phone,
    ssn,
    url,
)

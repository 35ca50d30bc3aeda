"""The composition root that runs GridOne's server and app together: the ``gridone``
command (``server.cli``'s commands plus ``demo``). It stands outside both packages:
``server`` never imports ``mobile``, ``mobile`` reaches the server only over HTTP."""
